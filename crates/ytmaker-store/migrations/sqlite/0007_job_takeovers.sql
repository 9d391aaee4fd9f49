-- A job whose worker keeps dying must not be claimed forever. A claim that takes a job over from an
-- expired lease (its worker stopped renewing: killed, crashed, cut off) counts one abandoned run
-- and records that worker, so the claimer can end the job after a bounded number of them.
-- A job handed back by a worker that stopped cleanly (state queued again) does not count.
ALTER TABLE jobs ADD COLUMN previous_owner TEXT;
ALTER TABLE jobs ADD COLUMN abandoned_runs INTEGER NOT NULL DEFAULT 0;
