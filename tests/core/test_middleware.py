"""Bodies over the upload limit are refused with 413, whether or not they declare their length."""

from __future__ import annotations

from collections.abc import Iterator

from tests.conftest import MakeClient


def test_declared_oversize_body_is_413_before_reading(make_client: MakeClient) -> None:
    client = make_client(max_upload_mb=0.01)
    response = client.post("/api/v1/documents", files=[("files", ("big.txt", b"word " * 5000, "text/plain"))])
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert client.get("/api/v1/documents").json()["total"] == 0


def test_streamed_oversize_body_is_cut_off_with_413(make_client: MakeClient) -> None:
    client = make_client(max_upload_mb=0.01)
    boundary = "xyz"

    def body() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'.encode()
        yield b"Content-Type: text/plain\r\n\r\n"
        for _ in range(100):
            yield b"word " * 200
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/api/v1/documents",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert client.get("/api/v1/documents").json()["total"] == 0


def test_small_bodies_pass(make_client: MakeClient) -> None:
    client = make_client(max_upload_mb=0.01)
    response = client.post(
        "/api/v1/documents?wait=true", files=[("files", ("a.txt", b"Small note.", "text/plain"))]
    )
    assert response.status_code == 200
