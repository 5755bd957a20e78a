"""Micro benchmark: what our wrappers cost over raw ``cryptography`` calls, measured in one run.

Absolute figures depend on the machine; the ratios (wrapper rate / raw rate, 1.0 = no overhead)
are what to watch. Raw and wrapped loops alternate in short rounds so that CPU frequency changes
hit both sides alike. ``python -m bitdust.crypt.bench [seconds]`` prints the result as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bitdust.crypt import symmetric
from bitdust.crypt.rsa_key import RsaKey

AES_CHUNK = 1024 * 1024
_ROUNDS = 3


def _rates(wrapped: Callable[[], object], raw: Callable[[], object], budget: float) -> tuple[float, float]:
    """Calls per second of each function, alternating in rounds within ``budget`` seconds overall."""
    counts = [0, 0]
    spent = [0.0, 0.0]
    slot = max(budget / (2 * _ROUNDS), 1e-3)
    for _ in range(_ROUNDS):
        for index, func in enumerate((wrapped, raw)):
            start = time.perf_counter()
            deadline = start + slot
            while True:
                func()
                counts[index] += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
            spent[index] += now - start
    return counts[0] / spent[0], counts[1] / spent[1]


def _entry(name: str, wrapped: float, raw: float, scale: float = 1.0) -> dict[str, float]:
    return {
        name: round(wrapped * scale, 2),
        f"{name}_raw": round(raw * scale, 2),
        f"{name}_ratio": round(wrapped / raw, 3),
    }


def run(seconds: float = 2.0) -> dict[str, Any]:
    """RSA-2048 sign/verify per second and AES-256-GCM MB/s, each through our API and raw."""
    budget = seconds / 4
    raw_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raw_public = raw_private.public_key()
    key = RsaKey(raw_private)
    message = os.urandom(256)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
    signature = key.sign(message)

    sign, sign_raw = _rates(lambda: key.sign(message), lambda: raw_private.sign(message, pss, hashes.SHA256()), budget)
    verify, verify_raw = _rates(
        lambda: key.verify(signature, message),
        lambda: raw_public.verify(signature, message, pss, hashes.SHA256()),
        budget,
    )

    data_key = symmetric.new_data_key()
    chunk = os.urandom(AES_CHUNK)
    aesgcm = AESGCM(data_key)
    nonce = os.urandom(symmetric.NONCE_SIZE)
    blob = symmetric.encrypt(data_key, chunk)
    raw_blob = aesgcm.encrypt(nonce, chunk, b"")
    encrypt, encrypt_raw = _rates(
        lambda: symmetric.encrypt(data_key, chunk),
        lambda: aesgcm.encrypt(os.urandom(symmetric.NONCE_SIZE), chunk, b""),
        budget,
    )
    decrypt, decrypt_raw = _rates(
        lambda: symmetric.decrypt(data_key, blob), lambda: aesgcm.decrypt(nonce, raw_blob, b""), budget
    )
    megabytes = AES_CHUNK / 1e6
    return {
        "seconds": seconds,
        "rsa_2048": {
            **_entry("sign_per_s", sign, sign_raw),
            **_entry("verify_per_s", verify, verify_raw),
        },
        "aes_256_gcm": {
            "chunk_bytes": AES_CHUNK,
            **_entry("encrypt_mb_per_s", encrypt, encrypt_raw, megabytes),
            **_entry("decrypt_mb_per_s", decrypt, decrypt_raw, megabytes),
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0), indent=2))
