import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

FORBIDDEN_PAGES = [
    "admin:accounts_user_changelist",
    "admin:auth_group_changelist",
]


@pytest.mark.parametrize("page", FORBIDDEN_PAGES)
def test_moderator_cannot_manage_accounts(moderator_client, page):
    assert moderator_client.get(reverse(page)).status_code == 403


def test_superuser_manages_accounts(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_member_is_kept_out_of_the_admin(client, member):
    client.force_login(member)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
