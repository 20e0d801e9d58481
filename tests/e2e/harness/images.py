"""docker.RemoteImage (terraform-provider-docker v4.5.0,
internal/provider/resource_docker_image_funcs.go) and docker.Image
(pulumi-docker's own provider/image.go and provider/provider.go)."""

import contextlib
import fnmatch
import hashlib
import os
from pathlib import Path

import docker
import docker.errors
from docker.utils import parse_repository_tag

from tests.e2e.harness.errors import HarnessError, UnsupportedDeclaration
from tests.e2e.harness.inputs import Inputs

STANDINS_HINT = "without a registry, build the stand-ins: bash .ci/images/build-standins.sh"


class RemoteImageHandler:
    def __init__(self, client: docker.DockerClient):
        self.client = client

    def check(self, inputs: Inputs) -> dict:
        news = {"name": inputs.require("name"), "keepLocally": inputs.bool("keepLocally", False)}
        inputs.done()
        return news

    def create(self, news: dict, record) -> tuple[str, dict]:
        # resource_docker_image_funcs.go:34: the local image of that name, else a pull.
        name = news["name"]
        try:
            image = self.client.images.get(name)
        except docker.errors.ImageNotFound:
            repository, tag = parse_repository_tag(name)
            try:
                image = self.client.images.pull(repository, tag=tag or "latest")
            except docker.errors.APIError as error:
                raise HarnessError(
                    f"image {name} is not in the local engine and cannot be pulled ({error}); "
                    + STANDINS_HINT
                ) from None
        return image.id + name, self._state(news, image)

    def _state(self, news: dict, image) -> dict:
        return {
            **news,
            "imageId": image.id,
            "repoDigest": repo_digest(news["name"], image.attrs.get("RepoDigests") or []),
        }

    def read(self, realized) -> dict | None:
        # resource_docker_image_funcs.go:103-130: looked up by name; gone when the
        # engine no longer has it, and the ID is whatever the name now points to.
        try:
            image = self.client.images.get(realized.inputs["name"])
        except docker.errors.ImageNotFound:
            return None
        return self._state(realized.inputs, image)

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        # resource_docker_image_funcs.go:134: finds the image again, then reads it.
        return self._state(news, self.client.images.get(news["name"]))

    def delete(self, realized) -> None:
        # resource_docker_image_funcs.go:190: kept when keep_locally.
        if realized.inputs["keepLocally"]:
            return
        with contextlib.suppress(docker.errors.NotFound):
            self.client.images.remove(realized.outputs["imageId"])


def repo_digest(name: str, digests: list[str]) -> str:
    """determineRepoDigest (data_source_docker_image.go:66-97): the only digest, else the
    one that starts with the name cut at its first ":", else ""."""
    if len(digests) <= 1:
        return digests[0] if digests else ""
    prefix = name.split(":", 1)[0]
    return next((d for d in digests if d.startswith(prefix)), "")


class ImageHandler:
    """A build with the classic builder (the Docker SDK for Python drives no other, and
    the program says so explicitly), kept local (skipPush) or pushed to the registry
    its name starts with."""

    def __init__(self, client: docker.DockerClient, project_root: Path):
        self.client = client
        self.project_root = project_root

    def check(self, inputs: Inputs) -> dict:
        skip_push = inputs.bool("skipPush", False)
        inputs.bool("buildOnPreview", False)  # the SDK sends it; there is no preview here
        build = inputs.block("build")
        if build is None:
            raise HarnessError(f"{inputs.where}: input build is required")
        context = build.get("context", ".")
        dockerfile = build.get("dockerfile", str(Path(context) / "Dockerfile"))
        builder = build.get("builderVersion")
        if builder != "BuilderV1":
            # provider/image.go:50 and :698: unset means BuildKit.
            raise UnsupportedDeclaration(
                f"{inputs.where}: builderVersion {builder or 'unset (BuildKit)'}: the harness "
                "builds with the classic builder only (BuilderV1)"
            )
        build.done()
        news = {
            "imageName": inputs.require("imageName"),
            "skipPush": skip_push,
            "build": {
                "context": context,
                "dockerfile": dockerfile,
                "builderVersion": builder,
                # provider.go:202: Check adds the hash of the context to the inputs,
                # so a change to any file that reaches the build is a change.
                "contextDigest": context_digest(
                    self.project_root / context, self.project_root / dockerfile
                ),
            },
        }
        inputs.done()
        return news

    def create(self, news: dict, record) -> tuple[str, dict]:
        if not news["skipPush"]:
            # image.go:187-190: the registry's credentials are looked up before the build,
            # and getRegistryAddrFromImage (image.go:801) wants a canonical name.
            repository, _ = parse_repository_tag(news["imageName"])
            domain = repository.split("/", 1)[0]
            if "/" not in repository or not (
                "." in domain or ":" in domain or domain == "localhost"
            ):
                raise HarnessError(
                    f"{news['imageName']!r}: This resource requires all image names to be "
                    "fully qualified."
                )
        build = news["build"]
        context = self.project_root / build["context"]
        try:
            image, _ = self.client.images.build(
                path=str(context),
                dockerfile=os.path.relpath(self.project_root / build["dockerfile"], context),
                tag=news["imageName"],
                rm=True,
            )
        except docker.errors.BuildError as error:
            tail = "".join(
                str(line.get("stream", line.get("error", ""))) for line in error.build_log
            )
            raise HarnessError(
                f"docker build of {context} failed: {error}\n{tail[-3000:]}"
            ) from None
        outputs = {**news, "baseImageName": news["imageName"]}
        if news["skipPush"]:
            # image.go:287-294: with skipPush, repoDigest is the local image ID.
            return news["imageName"], {**outputs, "repoDigest": image.id}
        return news["imageName"], {**outputs, "repoDigest": self._push(news["imageName"])}

    def _push(self, name: str) -> str:
        """image.go:302-353: push the name as built, with the credentials of the host's
        Docker config (none here); repoDigest is the name without its tag, "@" and the
        digest the push reports, else the local image's digest for that repository
        (getRepoDigest, image.go:369-398), else "<none>@<none>"."""
        repository, tag = parse_repository_tag(name)
        digest = None
        for line in self.client.api.push(repository, tag=tag, stream=True, decode=True):
            if "error" in line:
                raise HarnessError(f"pushing {name} failed: {line['error']}")
            digest = (line.get("aux") or {}).get("Digest", digest)
        if digest is not None:
            return f"{repository}@{digest}"
        local = self.client.images.get(name).attrs.get("RepoDigests") or []
        return next((d for d in local if d.startswith(f"{repository}@")), "<none>@<none>")

    def read(self, realized) -> dict | None:
        # provider.go:415: Read returns the state as it was; nothing is looked up.
        return realized.outputs

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        # provider.go:428: any change builds again.
        return self.create(news, lambda *_: None)[1]

    def delete(self, realized) -> None:
        """provider.go:490: Delete removes nothing; the tag stays in the engine."""


def context_digest(context: Path, dockerfile: Path) -> str:
    """A hash of what a build of `context` sends: the Dockerfile, then every file
    .dockerignore does not exclude, by path, content and mode."""
    patterns = _ignore_patterns(context, dockerfile)
    digest = hashlib.sha256(b"Dockerfile\0" + dockerfile.read_bytes())
    for path in sorted(p for p in context.rglob("*") if p.is_file() or p.is_symlink()):
        relative = path.relative_to(context).as_posix()
        if _ignored(relative, patterns):
            continue
        body = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        digest.update(f"{relative}\0{path.lstat().st_mode:o}\0".encode())
        digest.update(hashlib.sha256(body).digest())
    return digest.hexdigest()


def _ignore_patterns(context: Path, dockerfile: Path) -> list[str]:
    # provider.go:656: <Dockerfile>.dockerignore first, else the context's .dockerignore.
    for candidate in (Path(f"{dockerfile}.dockerignore"), context / ".dockerignore"):
        if candidate.is_file():
            lines = candidate.read_text(encoding="utf-8").splitlines()
            patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
            if any(p.startswith("!") for p in patterns):
                raise UnsupportedDeclaration(f"{candidate}: exceptions (!) in .dockerignore")
            return patterns
    return []


def _ignored(relative: str, patterns: list[str]) -> bool:
    # A pattern that matches a directory excludes everything under it.
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(_matches(prefix, pattern) for pattern in patterns for prefix in prefixes)


def _matches(path: str, pattern: str) -> bool:
    pattern = pattern.strip("/")
    if pattern.startswith("**/"):
        tail = pattern[3:]
        return any(
            _matches("/".join(path.split("/")[i:]), tail) for i in range(path.count("/") + 1)
        )
    path_parts, pattern_parts = path.split("/"), pattern.split("/")
    return len(path_parts) == len(pattern_parts) and all(
        fnmatch.fnmatchcase(p, q) for p, q in zip(path_parts, pattern_parts, strict=True)
    )
