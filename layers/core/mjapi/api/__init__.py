"""HTTP API: one Powertools resolver serving /midjourney/*, /mj/*, /admin/* and the OpenAPI document."""
