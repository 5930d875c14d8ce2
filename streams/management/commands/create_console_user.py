"""Create (or update) a console user in one of the three roles.

python manage.py create_console_user alice --role producer            # asks for the password
python manage.py create_console_user alice --role producer --password-env ALICE_PASSWORD
"""

import getpass
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from streams.roles import ROLES


class Command(BaseCommand):
    help = "Create a console user in a role (admin, producer or reviewer), or move an existing one to it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLES))
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="Read the password from this environment variable instead of asking for it.",
        )
        parser.add_argument(
            "--skip-validation",
            action="store_true",
            help="Accept a password that Django's validators reject.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = ROLES[options["role"]]
        password = self._password(options["password_env"])
        if not options["skip_validation"]:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None

        User = get_user_model()
        user, created = User.objects.get_or_create(username=options["username"])
        user.email = options["email"] or user.email
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role.group)])
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {user.username} as {role.group}."))

    def _password(self, variable: str | None) -> str:
        if variable:
            password = os.environ.get(variable, "")
            if not password:
                raise CommandError(f"The environment variable {variable} is empty or not set.")
            return password
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first
