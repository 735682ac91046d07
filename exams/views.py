from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    """The candidate's exams. Forms and attempts arrive with exam delivery."""
    return render(request, "exams/home.html", {"attempts": [], "forms": []})
