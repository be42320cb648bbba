"""A real `docker build`, named the way Skaffold names images for the local registry, pushed to devctl's
registry, and mapped back to its service by the code `status` and the live view use
(devctl.devloop.updates ``service_for_image``)."""

from __future__ import annotations

import json
import re

from devctl.devloop.updates import service_for_image, strip_tag
from devctl.stack import SERVICES, image_name
from tests.docker import parts
from tests.docker.conftest import Devctl
from tests.docker.engine import LABEL, RUN_ID, Engine
from tests.docker.images import Images

# The artifact -> service map the live view is given (devctl.devloop.run).
ARTIFACTS = {image_name(s): s for s in SERVICES}


def test_an_image_built_and_pushed_as_skaffold_names_it_maps_back_to_its_service(
    devctl: Devctl, engine: Engine, images: Images
) -> None:
    parts.registry_part()
    parts.wait_for_registry(devctl.registry_port)
    context = devctl.work / "auth"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f'FROM {images.busybox}\nCOPY served-by /served-by\nCMD ["cat", "/served-by"]\n'
    )
    (context / "served-by").write_text("auth\n")
    # skaffold.md §6: with the KEP-1755 default repo localhost:<port>, csup96/tour-auth is pushed as
    # localhost:<port>/csup96_tour-auth:<tag>.
    tag = f"v1-{RUN_ID}"
    name = f"localhost:{devctl.registry_port}/{image_name('auth').replace('/', '_')}:{tag}"

    engine.tags.append(name)
    engine.ok("build", "--label", LABEL, "-t", name, str(context))
    pushed = engine.ok("push", name)
    digest = re.search(r"digest: (sha256:[0-9a-f]{64})", pushed)
    assert digest, pushed

    assert parts.tags(devctl.registry_port, "csup96_tour-auth") == [tag]
    assert engine.ok("run", "--rm", "--label", LABEL, name) == "auth"
    repo_digests = json.loads(engine.ok("image", "inspect", "--format", "{{json .RepoDigests}}", name))
    assert repo_digests == [f"{strip_tag(name)}@{digest.group(1)}"]
    # Skaffold reports built images as name:tag@digest; Kubernetes shows what the Deployment names.
    for reference in (name, f"{name}@{digest.group(1)}", repo_digests[0]):
        assert service_for_image(reference, ARTIFACTS) == "auth", reference
