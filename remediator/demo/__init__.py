"""`remediator demo`: the whole product against an embedded local AWS (a moto server)."""
