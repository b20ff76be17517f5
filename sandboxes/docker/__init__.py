"""The Docker backend (:class:`DockerSandbox`), on a real Docker engine through docker-py."""

from .sandbox import DEFAULT_IMAGE, DockerSandbox, reap_docker

__all__ = ["DEFAULT_IMAGE", "DockerSandbox", "reap_docker"]
