"""A hasher for one-time passwords only.

PBKDF2's many rounds exist to slow the guessing of passwords people choose. A one-time
password that Atrium draws itself carries 90-odd bits of randomness: no number of rounds
makes it easier or harder to guess, and it is replaced at the first sign-in. Hashing it
with one salted SHA-256 round takes microseconds instead of the half second PBKDF2 costs,
which is most of the time a new hotel group's provisioning took. Chosen passwords never
use it (``make_password`` without ``hasher`` picks the first of PASSWORD_HASHERS)."""

from __future__ import annotations

import hashlib
import hmac

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import get_random_string

ALGORITHM = "onetime_sha256"


class OneTimePasswordHasher(BasePasswordHasher):
    algorithm = ALGORITHM

    def salt(self) -> str:
        return get_random_string(22)

    def encode(self, password: str, salt: str) -> str:
        if password is None or not salt or "$" in salt:
            raise ValueError("a password and a salt without '$' are required")
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return hmac.compare_digest(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {"algorithm": decoded["algorithm"], "salt": mask_hash(decoded["salt"]),
                "hash": mask_hash(decoded["hash"])}  # fmt: skip

    def must_update(self, encoded: str) -> bool:
        # After a sign-in with it, the password is stored the slow way (and it is to be
        # changed at once anyway).
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
