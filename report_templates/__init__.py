"""Jinja2 templates shared by the HTML and PDF reports, the email and the checklist.

Loaded through the installed package (``jinja2.PackageLoader``), never from the
current folder; see ``auditor/render/templating.py``.
"""
