"""The sandbox's own API under `/_sandbox/`: accounts, tokens, faults, ledger, clock, webhooks."""
