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


def test_admin_refuses_a_bidi_override_in_a_display_name(client, superuser, member):
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[member.pk])
    response = client.post(
        url,
        {
            "username": "member",
            "email": "member@example.com",
            "display_name": "Member\u202e",
            "bio": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "12:00:00",
        },
    )
    assert response.status_code == 200
    assert "display_name" in response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.display_name == "Member"
