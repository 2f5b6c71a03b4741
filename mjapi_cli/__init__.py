"""``mjapi``: the command line of an mjapi deployment. It talks only to the HTTP API (``/midjourney/*``), so it works
the same against ``make run`` and a stack on AWS. Kept outside ``layers/core`` so the Lambda layer does not carry it."""
