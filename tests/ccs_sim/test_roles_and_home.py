import pytest
from django.contrib.auth.models import Group

from common.roles import Role, user_role


@pytest.mark.django_db
def test_role_groups_exist_with_their_permissions():
    instructor = Group.objects.get(name=Role.INSTRUCTOR.value)
    codenames = set(instructor.permissions.values_list("codename", flat=True))
    assert {"add_itemversion", "change_itemversion", "review_itemversion", "add_case"} <= codenames
    assert not Group.objects.get(name=Role.CANDIDATE.value).permissions.exists()
    assert Group.objects.filter(name=Role.MANAGER.value).exists()


@pytest.mark.django_db
def test_anonymous_home_goes_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, target",
    [
        ("candidate", "/exams/"),
        ("instructor", "/admin/questionbank/itemversion/"),
        ("manager", "/cohorts/"),
    ],
)
def test_home_sends_each_role_where_it_works(client, request, who, target):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == target
    assert client.get(target).status_code == 200


@pytest.mark.django_db
def test_user_without_role_is_told_so(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x-long-password")
    assert user_role(user) is None
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert b"No role yet" in response.content


@pytest.mark.django_db
def test_login_logout_and_password_change(client, candidate):
    response = client.post("/login/", {"username": "cand", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    response = client.post(
        "/password/change/",
        {
            "old_password": "pw-for-tests-1",
            "new_password1": "a-New-pass-phrase-9",
            "new_password2": "a-New-pass-phrase-9",
        },
    )
    assert response.status_code == 302
    client.post("/logout/")
    assert client.get("/").status_code == 302
    assert client.login(username="cand", password="a-New-pass-phrase-9")


@pytest.mark.django_db
def test_wrong_password_shows_an_error(client, candidate):
    response = client.post("/login/", {"username": "cand", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


@pytest.mark.django_db
def test_candidate_gets_no_admin_and_instructor_does(client, candidate, instructor):
    client.force_login(candidate)
    response = client.get("/admin/questionbank/itemversion/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(instructor)
    assert client.get("/admin/questionbank/itemversion/").status_code == 200


@pytest.mark.django_db
def test_candidate_cannot_see_dashboards(client, candidate):
    client.force_login(candidate)
    assert client.get("/cohorts/").status_code == 404


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off(settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo", "--no-bank")


@pytest.mark.django_db
def test_seed_demo_creates_one_account_per_role(settings, django_user_model):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", "--no-bank")
    roles = {
        u.username: user_role(u)
        for u in django_user_model.objects.filter(username__startswith="demo-")
    }
    assert roles["demo-candidate"] is Role.CANDIDATE
    assert roles["demo-instructor"] is Role.INSTRUCTOR
    assert roles["demo-manager"] is Role.MANAGER
    assert django_user_model.objects.get(username="demo-instructor").is_staff
