"""The Powertools Logger, Tracer and Metrics every function decorates its handler with.

Configured by the environment template.yaml sets (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL). The tracer patches botocore only, the one
library the service calls out with: patching everything X-Ray supports imports ``requests``,
``httpx`` and friends on every cold start for nothing.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
