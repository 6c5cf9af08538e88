"""doublure's image as a Testcontainers module: ``pip install doublure[testcontainers]``.

>>> from doublure.testcontainers import DoublureContainer
>>> with DoublureContainer().with_generated(users=200) as container:
...     mine = container.namespace("test_login")   # a doublure.Doublure handle
...     token = mine.token()

The image is ``ghcr.io/doublure/doublure`` at this package's version,
never ``latest``; the ``image`` argument or the ``DOUBLURE_IMAGE``
environment variable names another. Settings reach the server as the
binary's own ``DOUBLURE_*`` variables. The container is ready when
``/__doublure/health`` answers from the host (the image has no shell or
curl to run a check inside), and it is removed when the ``with`` block
ends, also on an exception.
"""

from __future__ import annotations

import os
import pathlib
import re
from typing import Any, Optional, Union

import docker.errors
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy

from ._errors import StartError
from ._handle import Doublure

IMAGE = "ghcr.io/doublure/doublure"
PORT = 8080
_FIXTURES = "/fixtures"


def default_image() -> str:
    """``DOUBLURE_IMAGE``, or the released image at this package's version."""
    named = os.environ.get("DOUBLURE_IMAGE")
    if named:
        return named
    return f"{IMAGE}:{_version()}"


def _version() -> str:
    from . import __version__

    if __version__ != "0+unknown":
        return __version__
    # Imported from a source checkout: the version is the crate's.
    manifest = pathlib.Path(__file__).resolve().parents[2] / "Cargo.toml"
    found = re.search(r'^version = "([^"]+)"', manifest.read_text(), re.M) if manifest.is_file() else None
    if not found:
        raise StartError(
            "doublure.testcontainers: no package version to pin the image to; "
            "set DOUBLURE_IMAGE=name:tag or pass image="
        )
    return found.group(1)


def allowed_host(client: Any) -> str:
    """The host ``.url`` will name, for ``DOUBLURE_ALLOWED_HOST``: the
    control plane answers only the hosts it knows, and a remote Docker host
    (CI's ``DOCKER_HOST=tcp://docker:2375``) is none of them. ``*`` when
    only the started container could tell (a gateway or bridge address)."""
    try:
        if client.get_connection_mode().name == "docker_host":
            host = str(client.host())
            return f"[{host}]" if ":" in host and not host.startswith("[") else host
    except Exception:
        pass
    return "*"


class DoublureContainer(DockerContainer):
    """A doublure container: ``.url``, ``.connect()``, ``.namespace(name)``.

    ``image`` defaults to :func:`default_image`. Other keyword arguments
    are the binary's settings in snake case, given to the container as
    ``DOUBLURE_*`` variables: ``journal_size=100`` is
    ``DOUBLURE_JOURNAL_SIZE=100`` (see ``doublure --help``).
    """

    def __init__(self, image: Optional[str] = None, *, startup_timeout: int = 30, **settings: Any) -> None:
        super().__init__(image or default_image())
        self._admin_token: Optional[str] = None
        self._handle: Optional[Doublure] = None
        self.with_exposed_ports(PORT)
        self.waiting_for(
            HttpWaitStrategy(PORT, "/__doublure/health")
            .for_status_code(200)
            .with_startup_timeout(startup_timeout)
            .with_poll_interval(0.1)
        )
        self.with_settings(**settings)

    def with_settings(self, **settings: Any) -> "DoublureContainer":
        """Sets the binary's settings by flag name: ``seed=7`` is ``DOUBLURE_SEED=7``."""
        for key, value in settings.items():
            if value is None:
                continue
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise TypeError(f"setting {key!r} is not a doublure flag name (see doublure --help)")
            if key == "admin_token":
                self.with_admin_token(str(value))
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, (list, tuple)):
                text = ",".join(str(v) for v in value)
            else:
                text = str(value)
            self.with_env("DOUBLURE_" + key.upper(), text)
        return self

    def with_fixtures(self, directory: Union[str, "os.PathLike[str]"]) -> "DoublureContainer":
        """Copies the fixture directory into the container and serves it instead of the built-in data."""
        path = pathlib.Path(directory).resolve()
        if not path.is_dir():
            raise ValueError(f"with_fixtures: {directory} is not a directory")
        self.with_copy_into_container(path, _FIXTURES)
        return self.with_env("DOUBLURE_FIXTURES", f"{_FIXTURES}/{path.name}")

    def with_generated(
        self,
        users: Optional[int] = None,
        *,
        logora_users: Optional[int] = None,
        wcs_users: Optional[int] = None,
        forms_per_user: Optional[int] = None,
        seed: Optional[int] = None,
    ) -> "DoublureContainer":
        """Generated data: ``users`` of each API (or each count on its own), from ``seed``."""
        return self.with_settings(
            generate_logora_users=logora_users if logora_users is not None else users,
            generate_wcs_users=wcs_users if wcs_users is not None else users,
            generate_forms_per_user=forms_per_user,
            seed=seed,
        )

    def with_admin_token(self, token: str) -> "DoublureContainer":
        """The control plane's bearer token; the handles send it."""
        self._admin_token = token
        return self.with_env("DOUBLURE_ADMIN_TOKEN", token)

    def start(self) -> "DoublureContainer":
        try:
            if "DOUBLURE_ALLOWED_HOST" not in self.env:
                self.with_env("DOUBLURE_ALLOWED_HOST", allowed_host(self.get_docker_client()))
            super().start()
        except docker.errors.DockerException as error:
            self._remove()
            if not self._image_here():
                raise StartError(
                    f"the image {self.image} is not on this machine and could not be pulled ({error}). "
                    f"Pull it (docker pull {self.image}), or build it from a clone of doublure "
                    f"(docker build -t {self.image} .), or name another with DOUBLURE_IMAGE=name:tag"
                ) from None
            raise
        except BaseException:
            self._remove()
            raise
        return self

    def _remove(self) -> None:
        if self._container is not None:
            try:
                self._container.remove(force=True, v=True)
            except docker.errors.DockerException:
                pass
            self._container = None

    def _image_here(self) -> bool:
        try:
            self.get_docker_client().client.images.get(self.image)
        except docker.errors.ImageNotFound:
            return False
        except docker.errors.DockerException:
            # No engine to ask: the start's own error says more.
            return True
        return True

    @property
    def url(self) -> str:
        """The base URL the emulated APIs answer at, from the host."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

    def connect(self) -> Doublure:
        """The ``doublure.Doublure`` handle on the container's server (its root)."""
        if self._handle is None:
            self._handle = Doublure.connect(self.url, admin_token=self._admin_token)
        return self._handle

    def namespace(self, name: str) -> Doublure:
        """A handle on namespace ``name``: token, sign, clock, faults, journal, drop."""
        return self.connect().namespace(name)
