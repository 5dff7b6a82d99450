"""Password hashing tuned to OWASP's Argon2id guidance.

Django's Argon2 defaults (100 MiB, 2 passes, 8 lanes) cost ~100 ms and 100 MiB per login on
our 2-core web nodes, which makes a burst of logins a memory-exhaustion risk. OWASP's Password
Storage Cheat Sheet lists m=19 MiB, t=2, p=1 as an equivalent-strength Argon2id setting; it
costs ~18 ms here. Hashes made with other parameters are upgraded on the next login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
