from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from common.errors import ApplicationError
from lti.services import registration_save


class Command(BaseCommand):
    help = "Register an LMS (an LTI 1.3 platform) for a program; rerun to add a deployment id."

    def add_arguments(self, parser):
        parser.add_argument("--program", required=True, help="the program's slug")
        parser.add_argument("--issuer", required=True)
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--deployment-id", required=True)
        parser.add_argument("--auth-url", required=True, help="the platform's OIDC auth URL")
        parser.add_argument("--token-url", required=True, help="the platform's access token URL")
        parser.add_argument("--jwks-url", required=True, help="the platform's public key set URL")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--frame-origin",
            action="append",
            dest="frame_origins",
            help=(
                "an origin (https://host) whose pages open the tool in an iframe, besides "
                "the issuer's; repeat for several. Given, it replaces the registered list."
            ),
        )

    def handle(self, *args, **o):
        try:
            registration = registration_save(
                program_slug=o["program"],
                issuer=o["issuer"],
                client_id=o["client_id"],
                deployment_id=o["deployment_id"],
                auth_url=o["auth_url"],
                token_url=o["token_url"],
                jwks_url=o["jwks_url"],
                name=o["name"],
                frame_origins=o["frame_origins"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except ApplicationError as exc:
            raise CommandError(exc.user_message) from exc
        self.stdout.write(
            f"Registered {registration} for program {registration.program.slug} "
            f"(deployments: {', '.join(registration.deployment_ids)}; may frame the tool: "
            f"{', '.join(registration.embedding_origins())})."
        )
