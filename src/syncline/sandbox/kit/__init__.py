"""What every fake upstream shares: a background uvicorn server, an OAuth authorization server
with provider dialects, scripted and steady faults, traffic recording (runs that overlap), and
tamper-evident page tokens. A provider's package adds only its own behaviour."""
