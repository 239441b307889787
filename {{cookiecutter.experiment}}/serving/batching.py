"""Dynamic batching for the FastAPI app: the requests waiting at the same moment share one predict call.

A model answers a batch for far less per item than one call per item, and a single-process server
sees several requests at once under load. The batcher takes every request that is already queued
(it never waits for more, so a lone request gains no delay), concatenates their items in order,
predicts once in a worker thread, and hands each request its own slice of the predictions. While a
batch runs, the event loop keeps reading requests, which form the next batch.

The predictor's contract makes this safe: ``predict`` answers ``predictions[i]`` for ``items[i]``.
If a merged batch is refused (one request's items are wrong), each request is predicted on its
own, so only the wrong one gets the 4xx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

Outcome = BaseModel | BaseException


class Batcher:
    """Queue of parsed requests, drained by one task that predicts each group in one call."""

    def __init__(self, predict: Callable[[BaseModel], BaseModel], request_model: type[BaseModel], items: str,
                 max_items: int):
        self.predict = predict
        self.request_model = request_model
        self.items = items
        self.max_items = max_items
        self.queue: asyncio.Queue[tuple[BaseModel, asyncio.Future]] = asyncio.Queue()

    async def submit(self, request: BaseModel) -> BaseModel:
        """Queue ``request`` and wait for its response (or its :class:`InputError`)."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((request, future))
        return await future

    async def run(self) -> None:
        """Serve the queue until cancelled: take what is waiting, predict it in one call, answer each request."""
        held = None  # a request that did not fit the last group: it opens the next one
        while True:
            group = [held or await self.queue.get()]
            held = None
            count = self._count(group[0][0])
            while not self.queue.empty():
                waiting = self.queue.get_nowait()
                if count + self._count(waiting[0]) > self.max_items:
                    held = waiting
                    break
                group.append(waiting)
                count += self._count(waiting[0])
            outcomes = await asyncio.to_thread(self.predict_group, [request for request, _ in group])
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.done():  # the client went away
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def predict_group(self, requests: list[BaseModel]) -> list[Outcome]:
        """One predict call for all ``requests``; one per request if the merged call is refused or fails."""
        if len(requests) == 1:
            return [self._one(requests[0])]
        merged: list[Any] = []
        for request in requests:
            merged.extend(getattr(request, self.items))
        try:
            response = self.predict(self.request_model.model_construct(**{self.items: merged}))
        except Exception:
            return [self._one(request) for request in requests]
        answers, start = [], 0
        for request in requests:
            end = start + self._count(request)
            answers.append(response.model_copy(update={"predictions": response.predictions[start:end]}))
            start = end
        return answers

    def _one(self, request: BaseModel) -> Outcome:
        try:
            return self.predict(request)
        except Exception as error:  # an InputError becomes its 4xx; anything else is a bug, answered 500
            return error

    def _count(self, request: BaseModel) -> int:
        return len(getattr(request, self.items))
