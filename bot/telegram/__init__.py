"""Telegram adapter: python-telegram-bot 22 in front of the platform-free flows."""

import importlib.util
import sys

# httpcore (under PTB's httpx) tries `import sniffio` whenever it makes a lock or an event,
# several times a request. sniffio is not installed, and Python does not remember a failed
# import: each try searches sys.path again (~0.1 ms; `-X importtime` lists every try as
# "sniffio", which is what bench/startup.py counted as its import time). Marked missing
# once, the tries fail at once, exactly as they would have (asyncio is then assumed).
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]
