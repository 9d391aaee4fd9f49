//! `/api/v1/uploads/logo`: a logo is checked by its bytes, stored as PNG under its hash, served
//! back, and a configuration may name only a logo that was uploaded.

mod common;

use image::{ImageFormat, Rgba, RgbaImage};
use serde_json::{Value, json};
use std::io::Cursor;

use common::{Options, TestApp, article, spawn_app};

fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let image = RgbaImage::from_fn(width, height, |x, _| {
        Rgba([200, 30, 30, if x < width / 2 { 255 } else { 100 }])
    });
    if format == ImageFormat::Jpeg {
        image::DynamicImage::ImageRgba8(image)
            .into_rgb8()
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
    } else {
        image
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
    }
    bytes
}

async fn upload(app: &TestApp, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/uploads/logo"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn error_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["error"].clone()
}

#[tokio::test]
async fn a_png_logo_is_stored_as_png_and_served_back() {
    let app = spawn_app(Options::default()).await;
    let response = upload(&app, "image/png", encoded(ImageFormat::Png, 64, 32)).await;
    assert_eq!(response.status(), 201);
    let stored: Value = response.json().await.unwrap();
    let id = stored["id"].as_str().unwrap().to_owned();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(
        (&stored["width"], &stored["height"]),
        (&json!(64), &json!(32))
    );
    let on_disk = app.data.root().join(format!("uploads/logos/{id}.png"));
    assert_eq!(
        stored["bytes"],
        json!(std::fs::metadata(&on_disk).unwrap().len())
    );

    let served = app.get(&format!("/api/v1/uploads/logo/{id}")).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    let bytes = served.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), std::fs::read(&on_disk).unwrap());
    let decoded = image::load_from_memory(&bytes).unwrap().into_rgba8();
    assert_eq!(decoded.get_pixel(0, 0).0, [200, 30, 30, 255]);
    assert_eq!(decoded.get_pixel(63, 0).0[3], 100, "alpha kept");

    let api = app.json("/api/v1/openapi.json").await;
    assert!(api["paths"]["/api/v1/uploads/logo"]["post"].is_object());
    assert!(api["paths"]["/api/v1/uploads/logo/{id}"]["get"].is_object());
}

#[tokio::test]
async fn a_jpeg_logo_is_normalised_to_png() {
    let app = spawn_app(Options::default()).await;
    let response = upload(&app, "image/jpeg", encoded(ImageFormat::Jpeg, 40, 40)).await;
    assert_eq!(response.status(), 201);
    let stored: Value = response.json().await.unwrap();
    let served = app
        .get(&format!(
            "/api/v1/uploads/logo/{}",
            stored["id"].as_str().unwrap()
        ))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(image::guess_format(&served).unwrap(), ImageFormat::Png);
}

#[tokio::test]
async fn content_that_is_not_the_declared_image_is_refused() {
    let app = spawn_app(Options::default()).await;
    let error = error_of(
        upload(&app, "image/png", b"just some text, not a PNG".to_vec()).await,
        422,
    )
    .await;
    assert_eq!(
        (error["code"].as_str(), error["details"]["field"].as_str()),
        (Some("VALIDATION_ERROR"), Some("logo"))
    );
    // A real JPEG declared as PNG is refused too: the bytes must agree with the header.
    let error = error_of(
        upload(&app, "image/png", encoded(ImageFormat::Jpeg, 8, 8)).await,
        422,
    )
    .await;
    assert_eq!(error["code"], "VALIDATION_ERROR");
    let error = error_of(
        upload(&app, "image/gif", encoded(ImageFormat::Png, 8, 8)).await,
        422,
    )
    .await;
    assert_eq!(error["details"]["field"], "content-type");
    // A PNG signature followed by garbage does not decode.
    let mut broken = encoded(ImageFormat::Png, 8, 8);
    broken.truncate(40);
    let error = error_of(upload(&app, "image/png", broken).await, 422).await;
    assert_eq!(error["details"]["rule"], "a readable PNG or JPEG");
    assert!(
        !app.data.root().join("uploads/logos").exists()
            || std::fs::read_dir(app.data.root().join("uploads/logos"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[tokio::test]
async fn a_logo_over_2_mb_is_refused_with_413() {
    let app = spawn_app(Options::default()).await;
    // Just over the limit reaches the handler; far over it is stopped by the body limit.
    for size in [2 * 1024 * 1024 + 1, 3 * 1024 * 1024] {
        let mut body = encoded(ImageFormat::Png, 8, 8);
        body.resize(size, 0);
        let error = error_of(upload(&app, "image/png", body).await, 413).await;
        assert_eq!(error["code"], "PAYLOAD_TOO_LARGE", "{size} bytes");
    }
}

#[tokio::test]
async fn ids_are_hex_only_and_unknown_ones_are_not_found() {
    let app = spawn_app(Options::default()).await;
    let error = error_of(
        app.get("/api/v1/uploads/logo/..%2F..%2Fytmaker.db").await,
        422,
    )
    .await;
    assert_eq!(
        (error["code"].as_str(), error["details"]["field"].as_str()),
        (Some("VALIDATION_ERROR"), Some("id"))
    );
    let error = error_of(
        app.get(&format!("/api/v1/uploads/logo/{}", "ab".repeat(32)))
            .await,
        404,
    )
    .await;
    assert_eq!(error["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_configuration_may_name_only_an_uploaded_logo() {
    let app = spawn_app(Options::default()).await;
    let unknown = "cd".repeat(32);
    let create = |upload: &str| json!({ "content": article(), "configuration": { "logo": { "upload": upload, "position": "bottom_left" } } });

    let error = error_of(app.post("/api/v1/projects", &create(&unknown)).await, 422).await;
    assert_eq!(
        (error["code"].as_str(), error["details"]["field"].as_str()),
        (Some("VALIDATION_ERROR"), Some("logo.upload"))
    );
    // A path is not an id: refused by the configuration's own validation.
    let error = error_of(
        app.post("/api/v1/projects", &create("../../etc/passwd"))
            .await,
        422,
    )
    .await;
    assert_eq!(error["code"], "CONFIG_INVALID");
    assert_eq!(error["details"]["violations"][0]["field"], "logo.upload");
    let error = error_of(
        app.post(
            "/api/v1/configurations",
            &json!({ "name": "with logo", "configuration": { "logo": { "upload": unknown } } }),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error["details"]["field"], "logo.upload");

    let stored: Value = upload(&app, "image/png", encoded(ImageFormat::Png, 16, 16))
        .await
        .json()
        .await
        .unwrap();
    let id = stored["id"].as_str().unwrap();
    let created = app.post("/api/v1/projects", &create(id)).await;
    assert_eq!(created.status(), 201);
    let project: Value = created.json().await.unwrap();
    assert_eq!(project["configuration"]["logo"]["upload"], id);
    assert_eq!(project["configuration"]["logo"]["position"], "bottom_left");
    assert_eq!(project["configuration"]["logo"]["size_percent"], 12.0);

    let project_id = project["id"].as_str().unwrap();
    let put = app
        .client
        .put(app.url(&format!("/api/v1/projects/{project_id}/configuration")))
        .json(&json!({ "logo": { "upload": unknown } }))
        .send()
        .await
        .unwrap();
    let error = error_of(put, 422).await;
    assert_eq!(error["details"]["field"], "logo.upload");
}
