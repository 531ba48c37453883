"""Date formats of the site's two languages (FORMAT_MODULE_PATH), read before Django's own.

English dates read "1 December 2026 at 08:44" rather than Django's American "12/01/2026
8:44 a.m." (ambiguous next to French pages), French ones "1 décembre 2026 à 08:44".
"""
