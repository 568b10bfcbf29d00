"""CloudWatch Logs facts shared by the components and the config: the retention periods AWS accepts."""

import functools
import gzip
import json
import re
from importlib import resources

DOCUMENTED_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""`PutRetentionPolicy`'s allowed values as documented; used if botocore's model stops listing them."""


@functools.cache
def retention_days_allowed() -> tuple[int, ...]:
    """The retention periods CloudWatch Logs accepts, read from botocore's logs model (the `Days` shape).

    The model has no enum for them, only the list in the shape's documentation; parse that, and fall back to
    the documented list when the text changes shape.
    """
    doc = _logs_model()["shapes"]["Days"].get("documentation", "")
    match = re.search(r"Possible values are:([\d,\sand]+)\.", doc)
    values = tuple(sorted({int(v) for v in re.findall(r"\d+", match.group(1))})) if match else ()
    return values if len(values) >= 10 else DOCUMENTED_RETENTION_DAYS


def _logs_model() -> dict:
    # Read the newest API version's file directly: botocore's Loader costs more to import than this takes.
    folder = resources.files("botocore").joinpath("data/logs")
    latest = max((entry for entry in folder.iterdir() if entry.is_dir()), key=lambda entry: entry.name)
    plain, packed = latest.joinpath("service-2.json"), latest.joinpath("service-2.json.gz")
    return json.loads(plain.read_text() if plain.is_file() else gzip.decompress(packed.read_bytes()))


def check_retention_days(days: int) -> int:
    """`days` if CloudWatch Logs accepts it as a retention; ValueError listing the accepted values otherwise."""
    allowed = retention_days_allowed()
    if days not in allowed:
        raise ValueError(f"{days} is not a CloudWatch Logs retention; expected one of {', '.join(map(str, allowed))}")
    return days
