"""docker.Service, as terraform-provider-docker v4.5.0 makes, reads, updates and
deletes it (internal/provider/resource_docker_service_funcs.go, the spec built
and read back by resource_docker_service_structures.go, both cited by line).

The state is kept flat, one key per part of the spec that schema.RULES decides
on ("taskSpec.containerSpec.image", "taskSpec.networksAdvanced", ...): a part
whose change replaces the service is a key of its own, and so is each path the
program may name in ignore_changes. service_spec.py translates between the
inputs and that state, service_request.py from the state to what is sent.
"""

import contextlib
import random
import secrets
import time

import docker
import docker.errors

from testing.harness.errors import HarnessError
from testing.harness.inputs import Inputs, format_duration, parse_duration
from testing.harness.schema import LEFT_OUT
from testing.harness.service_request import to_spec
from testing.harness.service_spec import declared, read_back

# resource_docker_service_funcs.go:56-63: the provider looks every 5 s or more
# after the delay (MinTimeout). The harness looks every second: that changes how
# soon an up returns, not what it sees.
CONVERGE_POLL_SECONDS = 1
UPDATE_CONVERGE_DELAY_SECONDS = 7  # funcs.go:210, fixed for updates
# Task states in the order funcs.go's numberedStates ranks them (moby
# api/types/swarm/task.go): below "running" a task is on its way.
_STATES = [
    "new",
    "allocated",
    "pending",
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
    "running",
    "complete",
    "shutdown",
    "failed",
    "rejected",
    "remove",
    "orphaned",
]
_RANK = {state: rank for rank, state in enumerate(_STATES, start=1)}
# funcs.go:443-448: how an update that stopped is reported.
_UPDATE_FAILURES = {
    "rollback_completed": "service rollback completed",
    "paused": "service update paused",
    "rollback_paused": "service rollback paused",
}


class ServiceHandler:
    def __init__(self, client: docker.DockerClient):
        self.client = client
        self.api = client.api

    @staticmethod
    def _env_order() -> random.Random:
        """Go's map iteration order, which the provider sends env in, is new on every
        call: each create and update shuffles with a seed of its own."""
        return random.Random(secrets.randbits(64))

    # -- what the program declares: resource_docker_service.go --------------------

    def check(self, inputs: Inputs) -> dict:
        return declared(inputs)

    # -- create: funcs.go:31-81 ---------------------------------------------------------

    def create(self, news: dict, record) -> tuple[str, dict]:
        spec = to_spec(news, self._env_order())
        self._query_registry(spec)
        try:
            service_id = self.api.create_service(**spec)["ID"]
        except docker.errors.APIError as error:
            raise HarnessError(
                f"Error creating service {news['name']}: {error.explanation}"
            ) from None
        if news["convergeConfig"]:
            try:
                self._converge(service_id, news, delay=news["convergeConfig"]["delay"])
            except HarnessError:
                # funcs.go:67-75: a service that does not converge is deleted again.
                self._delete(service_id, news)
                raise
        record(service_id, dict(news))
        return service_id, self._read(service_id, news)

    def _query_registry(self, spec: dict) -> None:
        """ServiceCreateOptions.QueryRegistry (funcs.go:45): moby's client asks the
        registry, through the engine, for the image's digest and platforms, pins the
        image to the digest and puts the platforms into the placement (client
        service_create.go, resolveContainerSpecImage). Without an answer it leaves
        both as they were, with a warning."""
        container_spec = spec["task_template"]["ContainerSpec"]
        image = container_spec["Image"]
        try:
            found = self.api.inspect_distribution(image)
        except docker.errors.APIError:
            return
        if "@" not in image:
            container_spec["Image"] = f"{image}@{found['Descriptor']['digest']}"
        platforms = [
            # "arm" (any case) is dropped from the architecture (swarmkit#2294), as
            # the client does.
            {
                "Architecture": ""
                if p.get("architecture", "").lower() == "arm"
                else p.get("architecture", ""),
                "OS": p.get("os", ""),
            }
            for p in found.get("Platforms") or []
        ]
        if platforms:
            spec["task_template"].setdefault("Placement", {})["Platforms"] = platforms

    def _converge(self, service_id: str, news: dict, *, delay: str, updating=False) -> None:
        """funcs.go:358-475 and 510-562: until every replica's slot runs a task on an
        active node (for an update: until the update completed), or the timeout. The
        errors are the provider's texts; what a developer needs to see why is a note."""
        timeout = parse_duration(news["convergeConfig"]["timeout"])
        time.sleep(parse_duration(delay) / 1e9)
        deadline = time.monotonic() + timeout / 1e9
        while True:
            service = self.api.inspect_service(service_id)
            update = service.get("UpdateStatus") or {}
            status = update.get("State")
            message = update.get("Message", "")
            # funcs.go:435-448: a rollback under way is followed to its end, which is
            # an error all the same.
            rolling_back = updating and status == "rollback_started"
            if updating and status in _UPDATE_FAILURES:
                raise self._failed(service_id, f"{_UPDATE_FAILURES[status]}: {message}")
            if updating and status == "completed":
                return
            if self._running_slots(service_id) == news["mode.replicated.replicas"]:
                if rolling_back:
                    raise self._failed(service_id, f"service rollback completed: {message}")
                return
            if time.monotonic() >= deadline:
                # DidNotConvergeError (funcs.go:350-355): the timeout's Duration.String().
                raise self._failed(
                    service_id,
                    f"Service with ID ({service_id}) did not converge after "
                    f"{format_duration(timeout)}",
                )
            time.sleep(CONVERGE_POLL_SECONDS)

    def _failed(self, service_id: str, text: str) -> HarnessError:
        error = HarnessError(text)
        error.add_note(self._diagnostics(service_id))
        return error

    def _running_slots(self, service_id: str) -> int:
        active = {n["ID"] for n in self.api.nodes() if n["Status"]["State"] != "down"}
        by_slot: dict[int, dict] = {}
        tasks = self.api.tasks(filters={"service": service_id, "desired-state": "running"})
        for task in tasks:
            desired, state = (
                _RANK.get(task["DesiredState"], 0),
                _RANK.get(task["Status"]["State"], 0),
            )
            if not desired or not state:
                continue
            if task.get("NodeID") and task["NodeID"] not in active:
                continue
            kept = by_slot.get(task.get("Slot", 0))
            if kept is not None:
                kept_desired = _RANK[kept["DesiredState"]]
                if kept_desired < desired:
                    continue
                if kept_desired == desired and _RANK[kept["Status"]["State"]] <= state:
                    continue
            by_slot[task.get("Slot", 0)] = task
        return sum(
            1
            for task in by_slot.values()
            if _RANK[task["DesiredState"]] <= _RANK["running"]
            and task["Status"]["State"] == "running"
        )

    def _diagnostics(self, service_id: str) -> str:
        """Not in the provider's message: what a developer needs to see why."""
        tasks = self.api.tasks(filters={"service": service_id})
        lines = [
            f"  {t.get('NodeID', '')[:10]} {t['Status']['State']}: {t['Status'].get('Err') or t['Status'].get('Message', '')}"
            for t in tasks[-8:]
        ]
        return "tasks:\n" + "\n".join(lines)

    # -- read: funcs.go:83-167, flattened as structures.go:23-587 ------------------------

    def read(self, realized) -> dict | None:
        return self._read(realized.id, realized.outputs)

    def _read(self, service_id: str, state: dict) -> dict | None:
        # funcs.go:245-257: the service of that ID, else the one of that name.
        found = [
            svc
            for svc in self.api.services()
            if svc["ID"] == service_id or svc["Spec"]["Name"] == state["name"]
        ]
        if not found:
            return None  # funcs.go:118-121: gone from the state, made again by up
        service = self.api.inspect_service(found[0]["ID"])
        return read_back(service, state)

    # -- update: funcs.go:169-225 ---------------------------------------------------------

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        """The whole spec, from the new inputs (and the state's value of what the program
        ignores or leaves out), sent with ServiceUpdate; unlike create, the registry is
        not asked."""
        current = self.api.inspect_service(realized.id)
        news = {
            key: realized.outputs.get(key) if value is LEFT_OUT else value
            for key, value in news.items()
        }
        spec = to_spec(news, self._env_order())
        try:
            self.api.update_service(
                realized.id,
                current["Version"]["Index"],
                fetch_current_spec=False,
                **spec,
            )
        except docker.errors.APIError as error:
            raise HarnessError(
                f"Error updating service {news['name']}: {error.explanation}"
            ) from None
        if news["convergeConfig"]:
            self._converge(
                realized.id, news, delay=f"{UPDATE_CONVERGE_DELAY_SECONDS}s", updating=True
            )
        return self._read(realized.id, news)

    # -- delete: funcs.go:227-336 ---------------------------------------------------------

    def delete(self, realized) -> None:
        self._delete(realized.id, realized.outputs)

    def _delete(self, service_id: str, state: dict) -> None:
        """ServiceRemove; with a stop grace period, then waits for each of the service's
        containers to be removed, and removes it. The provider's client is the one
        engine it talks to: containers on other nodes are "No such container",
        which it ignores (funcs.go:297-330)."""
        grace = state.get("taskSpec.containerSpec.stopGracePeriod")
        containers = []
        if grace and grace != "0s":
            for task in self.api.tasks(filters={"service": state["name"]}):
                container_id = (task["Status"].get("ContainerStatus") or {}).get("ContainerID")
                if container_id and task["Status"]["State"] != "shutdown":
                    containers.append(container_id)
        with contextlib.suppress(docker.errors.NotFound):
            self.api.remove_service(service_id)
        deadline = time.monotonic() + (parse_duration(grace) / 1e9 if grace else 0)
        for container_id in containers:
            while time.monotonic() < deadline:
                try:
                    self.api.inspect_container(container_id)
                except docker.errors.NotFound:
                    break
                time.sleep(0.2)
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                self.api.remove_container(container_id, force=True, v=True)
