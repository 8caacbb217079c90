from numerai_assets.core.redaction import REDACTED, redact


def test_known_secrets_and_token_headers_are_masked():
    text = "failed: Authorization: Token PUBLICID123$S3CRETKEY456 for PUBLICID123 / S3CRETKEY456"
    out = redact(text, ["PUBLICID123", "S3CRETKEY456"])
    assert "PUBLICID123" not in out and "S3CRETKEY456" not in out
    assert out.count(REDACTED) == 3


def test_short_or_missing_secrets_do_not_mangle_text():
    assert redact("round 1 open", [None, "", "1"]) == "round 1 open"
