"""Fixtures for the simulator's own tests: a fresh simulator per test on a free loopback port (fast clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from sim_harness import Discord, Gateway

from simulator import Account, Simulator

SPEED = 400.0


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=7, speed=SPEED)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


@pytest.fixture
def alice(sim: Simulator) -> Account:
    return sim.add_account("alice")


@pytest.fixture
def discord(http: aiohttp.ClientSession, sim: Simulator, alice: Account) -> Discord:
    return Discord(http, sim.urls, alice)


@pytest.fixture
async def gw(sim: Simulator, alice: Account) -> AsyncIterator[Gateway]:
    gateway = Gateway(sim.urls.gateway, alice.token)
    await gateway.identify()
    try:
        yield gateway
    finally:
        await gateway.close()
