#!/usr/bin/python3
# browser_drive.py URL EMAIL PASSWORD -- drives examples/browser/ in headless
# Chromium as a user would (sign up, log out, log in, reload, log out) and
# prints, as one JSON object, what the page showed after each step.  The
# Perl test (tests/integration/58_browser.t) judges it; this file asserts
# nothing itself.
import json, shutil, sys, tempfile, time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

url, email, password = sys.argv[1:4]
profile = tempfile.mkdtemp(prefix='bulwark-chromium-')
opts = webdriver.ChromeOptions()
opts.binary_location = '/usr/bin/chromium'
for a in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--no-first-run', '--user-data-dir=' + profile):
    opts.add_argument(a)
opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=opts)
out = {'steps': []}


def text(id_):
    return driver.find_element(By.ID, id_).text


def wait_state(want, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        s = text('state')
        if s in want:
            return s
        time.sleep(0.1)
    return text('state')


def snapshot(name, state):
    account = driver.find_element(By.ID, 'account')
    out['steps'].append({
        'step': name,
        'state': state,
        'status': text('status'),
        'error': text('error'),
        'account_shown': account.is_displayed(),
        'me_email': text('me-email') if account.is_displayed() else None,
        'me_role': text('me-role') if account.is_displayed() else None,
        'sessions': [li.text for li in driver.find_elements(By.CSS_SELECTOR, '#sessions li')],
    })


def fill():
    for id_, v in (('email', email), ('password', password)):
        e = driver.find_element(By.ID, id_)
        e.clear()
        e.send_keys(v)


def click_and_wait(id_, want, name):
    # The state text before the click may already be the wanted one: wait
    # for the answer (the status line changes with every answer).
    before = text('status') + '|' + text('state')
    driver.find_element(By.ID, id_).click()
    end = time.time() + 15
    while time.time() < end and text('status') + '|' + text('state') == before:
        time.sleep(0.1)
    snapshot(name, wait_state(want))


try:
    driver.get(url)
    snapshot('load', wait_state(('signed out', 'signed in', 'unreachable')))
    fill()
    click_and_wait('signup', ('signed in', 'unreachable'), 'signup')
    if out['steps'][-1]['state'] == 'signed in':
        click_and_wait('logout', ('signed out',), 'logout')
        fill()
        click_and_wait('login', ('signed in',), 'login')
        driver.get(url)
        snapshot('reload', wait_state(('signed in',)))
        out['cookie_names'] = sorted(c['name'] for c in driver.get_cookies())
        click_and_wait('logout', ('signed out',), 'logout again')
        driver.get(url)
        snapshot('reload after logout', wait_state(('signed out',)))
    try:
        out['console'] = [e['message'] for e in driver.get_log('browser')]
    except Exception as e:  # not every driver keeps the log
        out['console'] = ['(no log: %s)' % e]
finally:
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
print(json.dumps(out))
