"""The application layer: what ``audit run``, ``checklist`` and ``report`` do, without the command line.

Each use case is a plain function that takes a frozen options dataclass and an
:class:`~auditor.app.output.Output` and returns an outcome with its exit code
(:mod:`.fleet`, :mod:`.checklist`, :mod:`.report`; the scheduled delivery in
:mod:`.delivery`). Nothing here imports click: the commands in
``auditor/commands/`` parse options into these dataclasses, call the function,
and turn :class:`~auditor.app.errors.AppError` into click's usage errors.
"""
