"""One JSON object a line, the same shape in every fastdining process.

`formatter` turns a record into a line, `redaction` takes secrets out of it, `setup` installs
both on the root logger for processes that configure logging in code (uvicorn apps, kopf);
Django and gunicorn name `fdc_logging.JsonLineFormatter` in their dictConfig instead.
"""

from fdc_logging.formatter import SHAPE, JsonLineFormatter
from fdc_logging.redaction import REDACTED, Redactor
from fdc_logging.setup import configure

__all__ = ["REDACTED", "SHAPE", "JsonLineFormatter", "Redactor", "configure"]
