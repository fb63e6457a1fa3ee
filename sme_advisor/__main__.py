from sme_advisor.cli import app

app()
