// Calls the Muster service with UrlFetchApp and the user's Google identity token, and turns its answers into results or sentences a coordinator understands; the token only ever goes to the service origin fixed at build time (Config.js), never to a URL taken from the Sheet, a property or a response.

/** A bare origin: https with a host name, or http on the loopback address (test builds only; Google's servers cannot reach it). */
const SERVICE_ORIGIN_PATTERN_ = /^(?:https:\/\/[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+|http:\/\/(?:127\.0\.0\.1|localhost))(?::[0-9]{1,5})?$/;
/** Ids that may appear in an API path segment. */
const ID_PATTERN_ = /^[A-Za-z0-9._:~-]{1,200}$/;
const MAX_SENTENCE_LENGTH_ = 400;

/** Returns the service origin this build was made for, or throws if it is not a bare origin. */
function serviceOrigin_() {
  const origin = typeof MUSTER_SERVICE_ORIGIN === 'string' ? MUSTER_SERVICE_ORIGIN : '';
  if (!SERVICE_ORIGIN_PATTERN_.test(origin)) {
    throw new Error('This copy of the Muster add-on has no valid service address, so it will not send your sign-in anywhere. Ask your Muster admin to rebuild and publish it.');
  }
  return origin;
}

/** The host name shown in the sidebar ("Connected to …"). */
function serviceHost_() {
  return serviceOrigin_().replace(/^https?:\/\//, '');
}

/** Builds /api/<segments>, each id checked and encoded, so nothing in a path can change the host or climb out of /api. */
function apiPath_(segments) {
  return '/api/' + segments.map(function (segment) {
    const s = String(segment);
    if (!ID_PATTERN_.test(s) || s === '.' || s === '..') throw new Error('That program or session id does not look right; choose the program again.');
    return encodeURIComponent(s);
  }).join('/');
}

/** Sends one request to the Muster API and returns its parsed JSON, or throws an Error whose message is a sentence for the coordinator. */
function musterRequest_(method, segments, body) {
  const url = serviceOrigin_() + apiPath_(segments);
  const token = ScriptApp.getIdentityToken();
  if (!token) {
    throw new Error('Muster could not get your Google sign-in. Close the sidebar, open Muster again from the Extensions menu and allow access when Google asks.');
  }
  const options = {
    method: method,
    muteHttpExceptions: true,
    followRedirects: false,
    headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
  };
  if (body !== undefined) {
    options.contentType = 'application/json';
    options.payload = JSON.stringify(body);
  }
  let response;
  try {
    response = UrlFetchApp.fetch(url, options);
  } catch (err) {
    // UrlFetchApp's own message names the URL, never the headers; it goes to the execution log, not to the coordinator.
    console.warn('Muster request failed before an answer: ' + String(err && err.message));
    throw new Error('Muster can\'t be reached at ' + serviceHost_() + ' right now. Try again in a few minutes; if it keeps happening, tell your Muster admin.');
  }
  const status = response.getResponseCode();
  const parsed = parseJson_(response.getContentText());
  if (status >= 200 && status < 300) {
    if (parsed.ok) return parsed.value;
    throw new Error('Muster answered with something the add-on could not read. Try again; if it keeps happening, tell your Muster admin.');
  }
  throw new Error(describeServiceError_(status, parsed.ok ? parsed.value : null, headerValue_(response, 'Retry-After')));
}

function parseJson_(text) {
  if (!text) return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, value: null, reason: String(err && err.name) };
  }
}

function headerValue_(response, name) {
  const headers = response.getHeaders() || {};
  const wanted = name.toLowerCase();
  const key = Object.keys(headers).filter(function (k) { return k.toLowerCase() === wanted; })[0];
  return key === undefined ? null : String(headers[key]);
}

function clip_(text) {
  const s = String(text || '').replace(/\s+/g, ' ').trim();
  return s.length > MAX_SENTENCE_LENGTH_ ? s.slice(0, MAX_SENTENCE_LENGTH_ - 1) + '…' : s;
}

/** Turns an error answer from Muster ({ error: { code, message, details } }) into a sentence; raw bodies are never shown. */
function describeServiceError_(status, body, retryAfter) {
  const error = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : {};
  const code = typeof error.code === 'string' ? error.code : '';
  const message = typeof error.message === 'string' ? clip_(error.message) : '';
  const details = Array.isArray(error.details) ? error.details : [];
  const domainDetail = details.filter(function (d) { return d && d.field === 'hd'; })[0];

  if (status === 401) {
    if (domainDetail && /not installed/i.test(String(domainDetail.message))) {
      return 'Muster is not installed for your domain yet — ask your Google Workspace admin to install it for everyone from the Google Workspace Marketplace.';
    }
    if (domainDetail) {
      return 'Muster works only with Google Workspace accounts. Open this Sheet with your work account and try again.';
    }
    return 'Muster could not confirm who you are. Reload the Sheet and try again; if it keeps happening, ask your Google Workspace admin to check Muster\'s sign-in settings.';
  }
  if (status === 403) {
    return (message ? message + ' ' : '') + 'Your account is not allowed to do that in Muster; ask your Muster admin if you need access.';
  }
  if (status === 404) {
    return 'Muster can\'t find that program or session any more. It may have been removed; choose the program for this Sheet again.';
  }
  if (status === 400 || status === 422 || code === 'VALIDATION_FAILED') {
    const lines = details.filter(function (d) {
      return d && typeof d.message === 'string' && (typeof d.row === 'number' || message.indexOf(d.message) < 0);
    }).slice(0, 5).map(function (d) {
      const where = typeof d.row === 'number' ? 'Row ' + d.row + ': ' : '';
      return where + clip_(d.message);
    });
    return 'Muster couldn\'t accept that: ' + (message || 'some values are not valid.') + (lines.length ? ' ' + lines.join(' ') : '');
  }
  if (status === 409) {
    return message || 'Someone else changed this in the meantime. Refresh the sidebar and try again.';
  }
  if (status === 429) {
    const seconds = retryAfter !== null && /^[0-9]{1,5}$/.test(retryAfter) ? Number(retryAfter) : null;
    return 'Muster is busy right now. Wait ' + (seconds === null ? 'a minute' : seconds + (seconds === 1 ? ' second' : ' seconds')) + ' and try again.';
  }
  if (status === 502 || code.indexOf('PROVIDER_') === 0) {
    return 'Muster could not get through to the calendar or mail service' + (message ? ': ' + message : '.') + ' Nothing was lost; try again in a few minutes.';
  }
  if (status === 503) {
    return 'Muster is temporarily unavailable. Try again in a few minutes.';
  }
  if (status >= 300 && status < 400) {
    return 'Muster\'s address answered with a redirect, so the add-on stopped there. Ask your Muster admin to check the add-on\'s service address.';
  }
  return 'Something went wrong inside Muster (status ' + status + '). Try again; if it keeps happening, tell your Muster admin.';
}
