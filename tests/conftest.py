"""Test-suite configuration. The DynamoDB Local fixtures come from the ddbstream pytest plugin
(``pytest11`` entry point); pytester is used to test that plugin.

Hypothesis profiles: ``dev`` (default), ``fuzz`` (``make fuzz``) and ``ci`` (set by
``.ci/run`` through ``HYPOTHESIS_PROFILE``): no deadline, because the shared 2-core CI machine
runs DynamoDB Local beside the tests and timings are not what these properties are about, and
derandomized in CI so that a red build is reproducible from its log. Tests set no
``max_examples`` of their own, so that the profile decides.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# make fuzz: the hardening targets of tests/fuzz with many more inputs (20,000 per target, or
# DDBSTREAM_FUZZ_EXAMPLES), and their statistics.
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("DDBSTREAM_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
