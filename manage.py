#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
    from django.core.management import execute_from_command_line

    from platform_site.malloc import malloc_tune

    # The task worker (db_worker) parses PDFs in threads: same allocator settings as the web.
    malloc_tune()

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
