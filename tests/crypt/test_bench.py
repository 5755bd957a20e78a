from __future__ import annotations

from bitdust.crypt import bench


def test_bench_reports_every_figure() -> None:
    result = bench.run(seconds=0.05)
    assert set(result["rsa_2048"]) == {
        "sign_per_s",
        "sign_per_s_raw",
        "sign_per_s_ratio",
        "verify_per_s",
        "verify_per_s_raw",
        "verify_per_s_ratio",
    }
    assert result["aes_256_gcm"]["chunk_bytes"] == bench.AES_CHUNK
    for group in ("rsa_2048", "aes_256_gcm"):
        assert all(value > 0 for value in result[group].values())
