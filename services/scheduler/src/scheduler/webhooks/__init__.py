"""Telling a business what happened: notices on `business.events` and signed webhooks (ADR 0021).

`notify` turns the scheduler's records (a post accepted, a target's result, an integration's
change) into notices (`herald.notices`), emits them and queues one delivery per subscribed
endpoint; `sender` delivers them, signed per Standard Webhooks, with retries on Herald's delay
tiers; `api` lets a business manage its endpoints and read the delivery log.
"""
