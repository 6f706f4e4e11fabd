// The example page's whole client: fetch with credentials, the CSRF token
// in X-CSRF-Token on every state change. No framework, no build step.
'use strict';

// Where the API is: this page's own origin (mounted at its root, as
// `make run` does), or ?api=<origin or prefix>, e.g. ?api=/auth for an API
// mounted under /auth, or ?api=http://localhost:3000 on another origin.
const API = (new URLSearchParams(location.search).get('api') || '').replace(/\/+$/, '');

// The session's CSRF token. On the API's own host the page reads the
// csrf_token cookie (deliberately not HttpOnly); a page on another host
// cannot, so the API sends the token in an X-CSRF-Token response header to
// the origins it lists, and the page keeps the latest one.
let csrfFromHeader = null;

function cookie(name) {
  const hit = document.cookie.split('; ').find((c) => c.startsWith(name + '='));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : null;
}

async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = csrfFromHeader || cookie('csrf_token');
  if (method !== 'GET' && token) headers['X-CSRF-Token'] = token;
  const res = await fetch(API + path, {
    method,
    headers,
    credentials: 'include', // send and accept the cookies, cross-origin too
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const t = res.headers.get('X-CSRF-Token');
  if (t) csrfFromHeader = t;
  let data = null;
  try { data = await res.json(); } catch (e) { /* every answer is JSON; a proxy's may not be */ }
  return { status: res.status, data };
}

const $ = (id) => document.getElementById(id);

function show(state, status, error) {
  $('state').textContent = state;
  $('status').textContent = status ? `(last answer: ${status})` : '';
  $('error').textContent = error || '';
}

function errorText(r) {
  if (!r.data) return `HTTP ${r.status}`;
  const issues = (r.data.issues || []).map((i) => `${i.path}: ${i.message}`).join('; ');
  return r.data.error + (issues ? ` (${issues})` : '');
}

async function loadSessions() {
  const list = $('sessions');
  list.textContent = '';
  const r = await call('GET', '/me/sessions');
  if (r.status !== 200 || !r.data || !Array.isArray(r.data.sessions)) {
    const li = document.createElement('li');
    li.className = 'unavailable';
    li.textContent = r.status === 404 ? 'session listing is not available on this API' : errorText(r);
    list.append(li);
    return;
  }
  for (const s of r.data.sessions) {
    const li = document.createElement('li');
    li.className = s.current ? 'session current' : 'session';
    li.textContent = `${s.ip || '?'} since ${s.createdAt}${s.current ? ' (this one)' : ''}`;
    list.append(li);
  }
}

async function loadMe() {
  const r = await call('GET', '/me');
  if (r.status === 200) {
    const u = r.data.user;
    $('me-email').textContent = u.email;
    $('me-role').textContent = u.role;
    $('me-id').textContent = u.id;
    $('account').hidden = false;
    show('signed in', r.status);
    await loadSessions();
  } else {
    $('account').hidden = true;
    show('signed out', r.status, r.status === 401 ? '' : errorText(r));
  }
  return r;
}

async function credentials(path) {
  const r = await call('POST', path, { email: $('email').value, password: $('password').value });
  if (r.status === 200 || r.status === 201) return loadMe();
  show($('account').hidden ? 'signed out' : 'signed in', r.status, errorText(r));
  return r;
}

async function logout() {
  const r = await call('POST', '/logout');
  if (r.status !== 200) {
    show('signed in', r.status, errorText(r));
    return r;
  }
  csrfFromHeader = null;
  $('account').hidden = true;
  show('signed out', r.status);
  return r;
}

function guard(fn) {
  return async (ev) => {
    if (ev) ev.preventDefault();
    try { await fn(); } catch (e) { show('unreachable', 0, `Failed to reach the API: ${e.message}`); }
  };
}

$('api-base').textContent = API || location.origin;
$('signup').addEventListener('click', guard(() => credentials('/signup')));
$('credentials').addEventListener('submit', guard(() => credentials('/login')));
$('logout').addEventListener('click', guard(logout));
$('refresh').addEventListener('click', guard(loadMe));
guard(loadMe)();
