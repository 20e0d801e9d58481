"""docker.RemoteImage (terraform-provider-docker v4.5.0,
internal/provider/resource_docker_image_funcs.go) and docker.Image
(pulumi-docker's own provider/image.go and provider/provider.go)."""

import contextlib
import fnmatch
import hashlib
import io
import os
import platform
import tarfile
from pathlib import Path

import docker
import docker.errors
from docker.utils import parse_repository_tag

from testing.harness.errors import HarnessError, UnsupportedDeclaration
from testing.harness.inputs import Inputs

# image.go:698-716: what builderVersion becomes in ImageBuildOptions.Version.
BUILDER_VERSIONS = {"BuilderV1": "1", "BuilderBuildKit": "2"}
# provider.go:211-214: "linux/" and the architecture the provider was built for.
HOST_PLATFORM = "linux/" + {"x86_64": "amd64", "aarch64": "arm64"}.get(
    platform.machine(), platform.machine()
)
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
    """A build as the provider asks Docker for one (image.go:202-240): BuildKit or the
    classic builder, with the query moby's client makes of those options, kept
    local (skipPush) or pushed to the registry its name starts with."""

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
        if builder not in BUILDER_VERSIONS:
            # image.go:698-716: unset is BuildKit; anything else is refused.
            raise UnsupportedDeclaration(
                f"{inputs.where}: builderVersion {builder or 'unset (BuildKit)'}: the harness "
                f"builds with what the program names, one of {sorted(BUILDER_VERSIONS)}"
            )
        build.done()
        news = {
            "imageName": inputs.require("imageName"),
            "skipPush": skip_push,
            "build": {
                "context": context,
                "dockerfile": dockerfile,
                "builderVersion": builder,
                # provider.go:211-237: Check sets the platform to the host's when unset.
                "platform": HOST_PLATFORM,
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
        image_id = self._build(news["imageName"], build)
        outputs = {**news, "baseImageName": news["imageName"]}
        if news["skipPush"]:
            # image.go:287-294: with skipPush, repoDigest is the local image ID.
            return news["imageName"], {**outputs, "repoDigest": image_id}
        return news["imageName"], {**outputs, "repoDigest": self._push(news["imageName"])}

    def _build(self, name: str, build: dict) -> str:
        """POST /build with the query moby's client makes of the provider's options
        (client/image_build.go:47-180): the tag, the Dockerfile, the platform, the
        builder's version, and rm=0, since the provider never sets Remove. The
        provider also opens a BuildKit session, for registry credentials only: the
        images here need none. Returns the built image's ID."""
        context = self.project_root / build["context"]
        query = {
            "t": name,
            "dockerfile": os.path.relpath(self.project_root / build["dockerfile"], context),
            "rm": "0",
            "platform": build["platform"],
            "version": BUILDER_VERSIONS[build["builderVersion"]],
        }
        api = self.client.api
        response = api._post(  # the SDK's build() cannot ask for BuildKit
            api._url("/build"),
            params=query,
            data=_context_tar(context, self.project_root / build["dockerfile"]),
            headers={"Content-Type": "application/x-tar"},
            stream=True,
            timeout=None,
        )
        api._raise_for_status(response)
        log, image_id = [], None
        for line in api._stream_helper(response, decode=True):
            if "error" in line:
                raise HarnessError(
                    f"docker build of {context} failed: {line['error']}\n{''.join(log)[-3000:]}"
                )
            log.append(str(line.get("stream", "")))
            # BuildKit reports the image as moby.image.id, the classic builder as aux.ID.
            aux = line.get("aux")
            if isinstance(aux, dict) and aux.get("ID"):
                image_id = aux["ID"]
        if image_id is None:
            raise HarnessError(
                f"docker build of {context} reported no image: {''.join(log)[-3000:]}"
            )
        return image_id

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


def _context_tar(context: Path, dockerfile: Path) -> bytes:
    """The build context as the provider sends it (image.go:124-165): a tar of the
    context directory, owned by root, without what .dockerignore excludes but
    with the Dockerfile and .dockerignore, which the daemon reads."""
    keep = {dockerfile.relative_to(context).as_posix(), ".dockerignore"}
    patterns = _ignore_patterns(context, dockerfile)

    def as_root(member: tarfile.TarInfo) -> tarfile.TarInfo:
        member.uid = member.gid = 0
        member.uname = member.gname = ""
        member.mtime = int(member.mtime)
        return member

    buffer = io.BytesIO()
    # GNU headers, not Python's default PAX ones: BuildKit on Docker 20.10 takes an
    # upload that starts with a PAX header for a Dockerfile, not for a context.
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(context.rglob("*")):
            relative = path.relative_to(context).as_posix()
            if path.is_dir() or (relative not in keep and _ignored(relative, patterns)):
                continue
            tar.add(path, arcname=relative, recursive=False, filter=as_root)
    return buffer.getvalue()


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
