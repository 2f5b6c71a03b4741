"""Offline Discord + Midjourney simulator: REST v9, gateway, CDN, the Midjourney and Niji bots, control and faults."""

from __future__ import annotations

from simulator.config import BucketLimit, RateLimitConfig, SimConfig
from simulator.constants import MIDJOURNEY_APP_ID, NIJI_APP_ID
from simulator.server import ACCOUNT_EVENTS, GATEWAY_ACTIONS, Simulator, SimUrls
from simulator.state import Account
from simulator.thread import SimulatorThread

__all__ = [
    "ACCOUNT_EVENTS",
    "GATEWAY_ACTIONS",
    "MIDJOURNEY_APP_ID",
    "NIJI_APP_ID",
    "Account",
    "BucketLimit",
    "RateLimitConfig",
    "SimConfig",
    "SimUrls",
    "Simulator",
    "SimulatorThread",
]
