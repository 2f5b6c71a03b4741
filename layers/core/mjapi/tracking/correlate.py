"""Which job an event belongs to, using the keys Discord gives before ever looking at the prompt.

Order (protocol notes §4): nonce -> job; interaction id (INTERACTION_SUCCESS id == later interaction_metadata.id);
message id (the progress message); Midjourney's job uuid once a running message showed it (the Cancel Job button of
today's ephemeral progress messages, or the preview's name); ``message_reference`` to a parent result (button jobs:
the pressed child, whatever kind when the message does not say); and only then the prompt text, and only when exactly
one active job on the account could match (pan rewrites the prompt: nothing else compares prompts). Two active jobs
with the same prompt on one channel are therefore never confused: they differ in nonce, interaction id and message id.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from mjapi.midjourney.actions import JobAction
from mjapi.midjourney.custom_ids import parse_custom_id
from mjapi.midjourney.models import Correlation
from mjapi.midjourney.prompt import split_prompt
from mjapi.models import ACTIVE_STATUSES, Job, JobKind
from mjapi.store.jobs import JobStore, Ref


def prompt_key(prompt: str | None) -> str:
    """Compare prompts by their text, ignoring parameters the bot may add (``--v 7``) and link brackets."""
    if not prompt:
        return ""
    parts = split_prompt(prompt)
    return " ".join([*parts.image_urls, parts.text]).lower()


def _pressed(job: Job) -> tuple[JobAction | None, int | None]:
    """What a button job will produce and which image it was pressed on, from the action table."""
    parsed = parse_custom_id(job.custom_id)
    return parsed.spec.result, parsed.index


class _Lru(OrderedDict[str, str]):
    """Shared by the relay's threads applying one account's events concurrently: updates take a lock (an eviction
    between another thread's store and move would lose its key)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size
        self._lock = threading.Lock()

    def remember(self, key: str, value: str) -> None:
        with self._lock:
            self[key] = value
            self.move_to_end(key)
            while len(self) > self._size:
                self.popitem(last=False)


class Correlator:
    def __init__(self, jobs: JobStore, cache_size: int = 4096) -> None:
        self.jobs = jobs
        self._cache = _Lru(cache_size)

    def remember(self, kind: str, key: str | None, job_id: str) -> None:
        """Record ``key`` -> job durably (the next relay process needs it too) and in the local cache."""
        refs = self.new_refs(job_id, (kind, key))
        if refs:
            self.jobs.put_refs(refs, job_id)
            self.learned(refs, job_id)

    def new_refs(self, job_id: str, *candidates: tuple[str, str | None]) -> list[Ref]:
        """The references among ``candidates`` this process has not yet recorded for ``job_id``: the ones to write
        with the job's next transition (then ``learned``)."""
        return [(kind, key) for kind, key in candidates if key and self._cache.get(f"{kind}:{key}") != job_id]

    def learned(self, refs: Sequence[Ref], job_id: str) -> None:
        """``refs`` were written for ``job_id``: later events find the job without a read."""
        for kind, key in refs:
            self._cache.remember(f"{kind}:{key}", job_id)

    def _lookup_id(self, kind: str, key: str | None) -> str | None:
        if not key:
            return None
        cache_key = f"{kind}:{key}"
        job_id = self._cache.get(cache_key) or self.jobs.resolve_ref(kind, key)
        if job_id:
            self._cache.remember(cache_key, job_id)
        return job_id

    def _lookup(self, kind: str, key: str | None) -> Job | None:
        job_id = self._lookup_id(kind, key)
        return self.jobs.get(job_id) if job_id else None

    def job_id_by_keys(self, corr: Correlation, *, nonce: str | None = None) -> str | None:
        """Direct keys only (nonce, message id, interaction id), without reading the job itself. A message belongs to
        one job, so its id outranks the interaction id: when the bot edits a finished result to restyle the button
        that was just pressed, the edit may carry that click's interaction, but it is still the parent's message.

        A message just created is the exception: nothing can have recorded its id but an earlier pass over this very
        event (a replay), which found the same job through its other keys, so those are tried first and the result
        of a known interaction costs no read of a reference that does not exist."""
        first, second = ("message", corr.message_id), ("interaction", corr.interaction_id)
        if corr.source == "MESSAGE_CREATE":
            first, second = second, first
        return self._lookup_id("nonce", nonce or corr.nonce) or self._lookup_id(*first) or self._lookup_id(*second)

    def by_keys(self, corr: Correlation, *, nonce: str | None = None) -> Job | None:
        job_id = self.job_id_by_keys(corr, nonce=nonce)
        return self.jobs.get(job_id) if job_id else None

    def job_id_by_hash(self, corr: Correlation) -> str | None:
        """Midjourney's uuid of the job the message shows (its own buttons, attachments or job link), once a running
        message taught it: a button job's result is a new message, possibly without interaction keys."""
        return self._lookup_id("hash", corr.job_hash)

    def by_hash(self, corr: Correlation) -> Job | None:
        job_id = self.job_id_by_hash(corr)
        return self.jobs.get(job_id) if job_id else None

    def child_of_reference(self, corr: Correlation, action: JobAction | None, index: int | None) -> Job | None:
        """A button result: the active child of the referenced parent whose button matches the result's kind."""
        parent = self._lookup("message", corr.referenced_message_id)
        if parent is None or not parent.children:
            return None
        candidates = []
        for child in self.jobs.get_many(parent.children):
            if child.status not in ACTIVE_STATUSES or child.kind != JobKind.ACTION:
                continue
            produces, pressed_on = _pressed(child)
            if action is not None and produces is not action:
                continue
            if index is not None and pressed_on not in (None, 0, index):
                continue
            candidates.append(child)
        if len(candidates) == 1:
            return candidates[0]
        unbound = [c for c in candidates if not c.message_id]
        return unbound[0] if len(unbound) == 1 else None

    def by_prompt(self, account_id: str, prompt: str | None, *, unbound_only: bool) -> Job | None:
        """Last resort: the single active job on the account with this prompt (None when ambiguous)."""
        key = prompt_key(prompt)
        if not key:
            return None
        matches = [
            j
            for j in self.jobs.active(account_id)
            if prompt_key(j.final_prompt or j.prompt) == key and (not unbound_only or not j.message_id)
        ]
        return matches[0] if len(matches) == 1 else None
