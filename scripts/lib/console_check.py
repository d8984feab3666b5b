"""The console in a real browser: headless Chromium driven by Selenium against a live
`lifeboat serve` on loopback. Logs in, looks at every page, starts a drill, approves a step,
watches the live view finish the drill, opens the report; keeps a screenshot of each page.

Run by scripts/lib/console-check.sh, which starts the daemon and passes:
  CONSOLE_URL        http://127.0.0.1:PORT
  CONSOLE_TOKEN      an operator's token (the person at the browser)
  CONSOLE_APPROVER   another operator's token (a colleague approving through the API)
  CONSOLE_SHOTS      the folder for the screenshots
Exits non-zero with a message on the first thing that is not as it should be.
"""

import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["CONSOLE_URL"]
TOKEN = os.environ["CONSOLE_TOKEN"]
APPROVER = os.environ["CONSOLE_APPROVER"]
SHOTS = os.environ["CONSOLE_SHOTS"]
# Generous: a drill restores a backup; the waits end as soon as the page shows the event.
PATIENCE = float(os.environ.get("CONSOLE_PATIENCE", "120"))
# live.js swaps the execution's changing part in place: an element read a moment ago can be
# gone by the time its text is asked for. That is the page working, not failing; read again.
REPLACED = (StaleElementReferenceException, NoSuchElementException)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    os.makedirs(SHOTS, exist_ok=True)
    driver = browser()
    shots = []

    def shot(name):
        path = os.path.join(SHOTS, name + ".png")
        driver.save_screenshot(path)
        shots.append(path)

    def wait_for(what, condition):
        started = time.monotonic()
        try:
            return WebDriverWait(driver, PATIENCE, poll_frequency=0.2, ignored_exceptions=REPLACED).until(condition)
        except Exception as error:
            shot("failed-" + what.replace(" ", "-"))
            waited = f"waited {PATIENCE:.0f} s" if isinstance(error, TimeoutException) else f"{type(error).__name__} after {time.monotonic() - started:.1f} s"
            raise Failure(f"{waited} for {what}; the page says: {read(lambda: driver.find_element(By.TAG_NAME, 'main').text)[:2000]}") from error

    def read(text):
        for _ in range(50):
            try:
                return text()
            except StaleElementReferenceException:
                continue
        return text()

    def status():
        return driver.find_element(By.ID, "execution-status").text

    def nav(label):
        driver.find_element(By.LINK_TEXT, label).click()
        wait_for(f"the {label} page", EC.title_contains(label if label != "Report" else "report"))

    def body():
        return read(lambda: driver.find_element(By.TAG_NAME, "body").text)

    try:
        # A page without a session goes to the login form; a wrong token is refused there.
        driver.get(BASE + "/console/plans")
        wait_for("the login form", EC.title_contains("Log in"))
        check("next=/console/plans" in driver.current_url, f"the login form should remember the page asked for: {driver.current_url}")
        driver.find_element(By.ID, "token").send_keys("lbt_not-a-token")
        driver.find_element(By.CSS_SELECTOR, "form button").click()
        wait_for("the refusal", EC.presence_of_element_located((By.CSS_SELECTOR, "p.error")))
        shot("01-login-refused")
        driver.find_element(By.ID, "token").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "form button").click()
        wait_for("the plans page after login", EC.title_contains("Plans"))
        cookie = driver.get_cookie("lifeboat_session")
        check(cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict", f"the session cookie must be HttpOnly and SameSite=Strict: {cookie}")
        check(not driver.execute_script("return document.cookie").count("lifeboat_session"), "scripts must not see the session cookie")

        nav("Dashboard")
        check("app" in body() and "RPO" in body(), "the dashboard lists the source with its RPO")
        shot("02-dashboard")
        nav("Backups")
        check("SUCCEEDED" in body(), "the backups page lists the succeeded backup")
        shot("03-backups")
        driver.find_element(By.CSS_SELECTOR, "tbody a").click()
        wait_for("a backup's page", EC.title_contains("Backup of app"))
        check("VERIFIED" in body() and "post-backup" in body(), "a backup's page shows its copies and checks")
        shot("04-backup")
        nav("Locations")
        check("3-2-1-1-0" in body() and "primary" in body(), "the locations page shows the 3-2-1-1-0 verdict")
        shot("05-locations")
        nav("Plans")
        shot("06-plans")
        driver.find_element(By.LINK_TEXT, "app").click()
        wait_for("the plan's page", EC.title_contains("Plan app"))
        check("Runbook" in body() and "sign-off" in body(), "the plan's page shows its runbook")
        shot("07-plan")

        # A drill, from the plan's page: the execution's page follows it live.
        driver.find_element(By.ID, "start-drill").click()
        wait_for("the execution's page", EC.presence_of_element_located((By.ID, "execution-status")))
        wait_for("the drill to wait for the sign-off", lambda d: status() == "WAITING_APPROVAL" and d.find_elements(By.CSS_SELECTOR, ".approve-step"))
        shot("08-execution-waiting")
        comment = "<b>restore looks right</b>"
        # Once the field holds text the live view leaves it alone; until then it may swap it.
        read(lambda: driver.find_element(By.NAME, "comment").send_keys(comment))
        driver.find_element(By.CSS_SELECTOR, ".approve-step").click()
        wait_for("the sign-off's approval", lambda d: "Approved by" in body())
        check(comment in body(), "the approval's comment is shown as text (escaped), not as markup")
        check(not driver.find_elements(By.CSS_SELECTOR, "li.step b"), "the comment's markup must not become an element")

        # The close-out approval comes from a colleague through the API; this page must
        # see the drill end without being reloaded (the live view), so a marker set now
        # must still be there once it shows SUCCEEDED.
        wait_for("the drill to wait for the close-out", lambda d: status() == "WAITING_APPROVAL" and "close-out" in d.find_element(By.CSS_SELECTOR, ".approve-step").text)
        driver.execute_script("window.lifeboatMarker = 'not reloaded'")
        execution = driver.current_url.rstrip("/").split("/")[-1]
        request = urllib.request.Request(
            f"{BASE}/api/executions/{execution}/approve", method="POST",
            data=json.dumps({"step": "close-out", "comment": "closed out by a colleague"}).encode(),
            headers={"Authorization": "Bearer " + APPROVER, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            check(response.status == 200, f"the API approval answered {response.status}")
        wait_for("the live view to show the drill SUCCEEDED", lambda d: status() == "SUCCEEDED")
        check(driver.execute_script("return window.lifeboatMarker") == "not reloaded", "the page was reloaded instead of updated live")
        check(not driver.find_elements(By.ID, "cancel"), "a finished execution offers no cancel button")
        shot("09-execution-succeeded")

        nav("Report")
        check(execution[:8] in body() and "SUCCEEDED" in body(), f"the report lists drill {execution[:8]}")
        shot("10-report")

        # Everything the pages loaded came from this server, and the browser refused nothing.
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        foreign = [r for r in resources if not r.startswith(BASE)]
        check(not foreign, f"the console loaded resources from elsewhere: {foreign}")
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "401" not in e["message"]]
        check(not severe, f"the browser reported errors: {severe}")

        driver.find_element(By.CSS_SELECTOR, "form.who button").click()
        wait_for("the login form after logging out", EC.title_contains("Log in"))
        driver.get(BASE + "/console")
        wait_for("the login form for a logged-out browser", EC.title_contains("Log in"))
    except Failure as failure:
        print(f"console check: {failure}", file=sys.stderr)
        print(f"console check: screenshots in {SHOTS}", file=sys.stderr)
        return 1
    finally:
        driver.quit()
    print(f"console check: passed; {len(shots)} screenshots in {SHOTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
