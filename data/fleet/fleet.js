// SPDX-License-Identifier: MIT
//
// The fleet page: polls the control API and keeps one table row a device,
// keyed by port, changing only the cells whose text changed.  Every text
// that comes from the daemon goes into the page through textContent or an
// attribute, never as markup.

'use strict';

(function () {
  const API = '/control/v1';
  const POLL_MS = 2000;
  const FORBIDDEN_HINT =
    'Control over HTTP is not allowed from this address: start plutomock with --control-allow ' +
    '(or CONTROL_ALLOW) naming it.';

  const $ = (id) => document.getElementById(id);

  const tbody = $('device-rows');
  const rows = new Map();  // port -> Row
  let pollTimer = 0;
  let polling = false;
  let pollAgain = false;
  let dismissedText = null;
  let removing = null;  // the device the remove dialog asks about
  let changes = 0;  // actions taken: a poll older than the last one is stale

  const number1 = new Intl.NumberFormat('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const number2 = new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

  // ---- the control API ---------------------------------------------------

  class ApiError extends Error {
    constructor (status, name, message) {
      super(message);
      this.status = status;
      this.name = name;
    }
  }

  async function api (method, path, body) {
    const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (e) {
      throw new ApiError(0, 'network', 'cannot reach plutomock (' + e.message + ')');
    }
    if (response.status === 204) {
      // Read the empty body all the same: a reply left unread counts as
      // a cancelled request.
      await response.text();
      return null;
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      if (response.ok)
        throw new ApiError(response.status, 'bad-reply', 'the reply to ' + method + ' ' + path + ' is not JSON');
    }
    if (!response.ok) {
      const name = data && typeof data.error === 'string' ? data.error : 'HTTP ' + response.status;
      const message = data && typeof data.message === 'string' ? data.message : response.statusText;
      throw new ApiError(response.status, name, message);
    }
    return data;
  }

  // ---- the banner --------------------------------------------------------

  function showError (error, doing, fromPoll) {
    const title = 'Could not ' + doing + ':';
    const message = error instanceof ApiError ? error.message : String(error);
    const name = error instanceof ApiError && error.status ? ' (' + error.name + ')' : '';
    const hint = error instanceof ApiError && error.status === 403 ? FORBIDDEN_HINT : '';
    // A poll that keeps failing the same way does not bring back a
    // banner that was dismissed.
    if (fromPoll && message + name === dismissedText)
      return;
    $('banner-title').textContent = title;
    $('banner-message').textContent = message + name;
    $('banner-hint').textContent = hint;
    $('banner').dataset.status = error instanceof ApiError ? String(error.status) : '';
    $('banner').dataset.fromPoll = fromPoll ? 'yes' : 'no';
    $('banner').hidden = false;
  }

  function clearPollError () {
    // A poll that works again ends what the polls complained about.
    dismissedText = null;
    const banner = $('banner');
    if (!banner.hidden && banner.dataset.fromPoll === 'yes')
      banner.hidden = true;
  }

  $('banner-dismiss').addEventListener('click', () => {
    const banner = $('banner');
    dismissedText = $('banner-message').textContent;
    banner.hidden = true;
  });

  function announce (text) {
    $('announce').textContent = text;
  }

  // ---- formatting --------------------------------------------------------

  function formatHashrate (ghs) {
    if (typeof ghs !== 'number' || !isFinite(ghs))
      return '';
    if (ghs >= 1000)
      return number2.format(ghs / 1000) + ' TH/s';
    return number1.format(ghs) + ' GH/s';
  }

  function formatUptime (seconds) {
    if (typeof seconds !== 'number' || !isFinite(seconds) || seconds < 0)
      return '';
    const d = Math.floor(seconds / 86400);
    const h = Math.floor(seconds % 86400 / 3600);
    const m = Math.floor(seconds % 3600 / 60);
    const s = Math.floor(seconds % 60);
    if (d > 0)
      return d + 'd ' + h + 'h ' + m + 'm';
    if (h > 0)
      return h + 'h ' + m + 'm';
    if (m > 0)
      return m + 'm ' + s + 's';
    return s + 's';
  }

  function formatWith (format, value, unit) {
    if (typeof value !== 'number' || !isFinite(value))
      return '';
    return format.format(value) + unit;
  }

  function formatParameters (parameters) {
    if (!parameters || typeof parameters !== 'object')
      return '';
    const parts = Object.keys(parameters).map((k) => k + '=' + JSON.stringify(parameters[k]));
    return parts.length ? parts.join(', ') : 'no parameters';
  }

  function safeUrl (url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  // ---- one row a device --------------------------------------------------

  const COLUMNS = [
    ['port', 'Port', false],
    ['hostname', 'Hostname', false],
    ['profile', 'Profile', false],
    ['firmware', 'Firmware', false],
    ['state', 'State', false],
    ['faults-cell', 'Faults', false],
    ['hashrate', 'Hashrate', true],
    ['temp', 'Chip temp', true],
    ['power', 'Power', true],
    ['fan', 'Fan', true],
    ['shares', 'Shares', true],
    ['uptime', 'Uptime', true],
    ['actions', '', false],
  ];

  class Row {
    constructor (port) {
      this.port = port;
      this.device = null;
      this.text = {};  // cell -> text shown
      this.tr = document.createElement('tr');
      this.tr.dataset.port = String(port);
      this.cells = {};
      for (const [name, label, numeric] of COLUMNS) {
        const td = document.createElement('td');
        td.className = name + (numeric ? ' num' : '');
        if (label)
          td.dataset.label = label;
        this.cells[name] = td;
        this.tr.appendChild(td);
      }

      this.link = document.createElement('a');
      this.link.rel = 'noopener noreferrer';
      this.link.target = '_blank';
      this.cells.port.appendChild(this.link);

      this.badge = document.createElement('span');
      this.cells.state.appendChild(this.badge);

      this.faultList = document.createElement('div');
      this.faultList.className = 'faults';
      this.cells['faults-cell'].appendChild(this.faultList);

      const actions = document.createElement('div');
      actions.className = 'row-actions';
      this.restartButton = document.createElement('button');
      this.restartButton.type = 'button';
      this.restartButton.className = 'restart';
      this.restartButton.textContent = 'Restart';
      this.restartButton.addEventListener('click', () => restartDevice(this));
      this.removeButton = document.createElement('button');
      this.removeButton.type = 'button';
      this.removeButton.className = 'remove';
      this.removeButton.textContent = 'Remove';
      this.removeButton.addEventListener('click', () => askRemove(this));
      actions.append(this.restartButton, this.removeButton);
      this.cells.actions.appendChild(actions);
    }

    setText (name, text, element) {
      if (this.text[name] === text)
        return false;
      this.text[name] = text;
      (element || this.cells[name]).textContent = text;
      return true;
    }

    update (device) {
      this.device = device;
      const hostname = String(device.hostname ?? '');
      const state = String(device.state ?? '');
      const live = device.live && typeof device.live === 'object' ? device.live : null;

      this.setText('port', String(device.port), this.link);
      const url = safeUrl(device.url);
      if (this.text.url !== url) {
        this.text.url = url;
        if (url)
          this.link.href = url;
        else
          this.link.removeAttribute('href');
      }
      if (this.setText('hostname', hostname)) {
        this.cells.hostname.title = hostname;
        this.restartButton.setAttribute('aria-label', 'Restart ' + hostname + ' (port ' + device.port + ')');
        this.removeButton.setAttribute('aria-label', 'Remove ' + hostname + ' (port ' + device.port + ')');
      }
      const apiVersion = device.apiVersion ? ' (' + device.apiVersion + ' API)' : '';
      if (this.setText('profile', String(device.profile ?? '')))
        this.cells.profile.title = String(device.profile ?? '') + apiVersion;
      this.setText('firmware', String(device.firmware ?? ''));
      if (this.setText('state', state, this.badge))
        this.badge.className = 'badge state-' + (state === 'running' || state === 'restarting' ? state : 'other');
      this.restartButton.disabled = state === 'restarting';

      this.updateFaults(device.faults);

      const liveCells = {
        hashrate: live ? formatHashrate(live.hashRate) : '',
        temp: live ? formatWith(number1, live.temp, ' °C') : '',
        power: live ? formatWith(number1, live.power, ' W') : '',
        fan: live ? formatWith(integer, live.fanrpm, ' rpm') : '',
        shares: live ? formatWith(integer, live.sharesAccepted, '') + ' / ' + formatWith(integer, live.sharesRejected, '') : '',
        uptime: live ? formatUptime(live.uptimeSeconds) : '',
      };
      for (const name in liveCells) {
        const text = liveCells[name] || '—';
        if (this.setText(name, text))
          this.cells[name].classList.toggle('none', text === '—');
      }
      if (this.text.sharesTitle !== (live ? 'yes' : 'no')) {
        this.text.sharesTitle = live ? 'yes' : 'no';
        this.cells.shares.title = live ? 'accepted / rejected' : 'no simulated miner';
      }
    }

    updateFaults (faults) {
      const kinds = faults && typeof faults === 'object' ? Object.keys(faults).sort() : [];
      const key = JSON.stringify(kinds.map((k) => [k, faults[k]]));
      if (this.text.faults === key)
        return;
      this.text.faults = key;
      this.faultList.replaceChildren();
      if (kinds.length === 0) {
        this.faultList.textContent = '—';
        this.cells['faults-cell'].classList.add('none');
        return;
      }
      this.cells['faults-cell'].classList.remove('none');
      for (const kind of kinds) {
        const badge = document.createElement('span');
        badge.className = 'badge fault';
        badge.textContent = kind;
        badge.title = kind + ': ' + formatParameters(faults[kind]);
        badge.tabIndex = 0;
        this.faultList.appendChild(badge);
      }
    }
  }

  // Puts @devices (in port order) into the table: rows of devices gone are
  // removed, new ones inserted where their port puts them, the others
  // changed in place.
  function showDevices (devices) {
    const seen = new Set();
    let previous = null;

    for (const device of devices) {
      if (!device || typeof device.port !== 'number')
        continue;
      seen.add(device.port);
      let row = rows.get(device.port);
      if (!row) {
        row = new Row(device.port);
        rows.set(device.port, row);
      }
      row.update(device);
      const want = previous ? previous.nextSibling : tbody.firstChild;
      if (want !== row.tr)
        tbody.insertBefore(row.tr, want);
      previous = row.tr;
    }
    for (const [port, row] of rows) {
      if (!seen.has(port)) {
        row.tr.remove();
        rows.delete(port);
      }
    }
    showEmpty();
  }

  // The fleet changed by an action: poll at once for the fleet's status.
  function changed () {
    changes++;
    if (document.visibilityState !== 'hidden')
      schedule(0);
  }

  // One device changed by an action: show it at once, before the next poll.
  function showDevice (device) {
    changed();
    const devices = Array.from(rows.values(), (row) => row.device).filter((d) => d && d.port !== device.port);
    devices.push(device);
    devices.sort((a, b) => a.port - b.port);
    showDevices(devices);
  }

  function forgetDevice (port) {
    changed();
    const row = rows.get(port);
    if (row) {
      row.tr.remove();
      rows.delete(port);
    }
    showEmpty();
  }

  // The table once there is a fleet to show, or a line saying why not.
  let shown = false;
  function showEmpty (failed) {
    if (!failed)
      shown = true;
    $('table-wrap').hidden = !shown || rows.size === 0;
    if (!shown) {
      $('empty').textContent = 'The fleet shows here once plutomock answers.';
      $('empty').hidden = false;
    } else {
      $('empty').textContent = 'No devices: add one above.';
      $('empty').hidden = rows.size > 0;
    }
  }

  function showStatus (status) {
    $('status-version').textContent = String(status.version ?? '');
    $('status-devices').textContent = String(status.devices ?? '');
    const profiles = status.profiles && typeof status.profiles === 'object' ? status.profiles : {};
    const names = Object.keys(profiles).sort();
    $('status-profiles').textContent = names.length
      ? names.map((name) => name + ' ' + profiles[name]).join(' · ')
      : 'none';
    $('status-scenario').textContent = status.scenarioRunning
      ? String(status.scenario || 'unnamed') + ' (running)'
      : 'none';
  }

  // ---- polling -----------------------------------------------------------

  async function poll () {
    clearTimeout(pollTimer);
    pollTimer = 0;
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    const started = changes;
    try {
      const [status, list] = await Promise.all([api('GET', ''), api('GET', '/devices')]);
      if (started !== changes) {
        // An action changed the fleet while this poll was under way: what
        // it brought may not show that yet.
        pollAgain = true;
        return;
      }
      showStatus(status);
      showDevices(Array.isArray(list.devices) ? list.devices : []);
      // The profiles, if the first try failed (plutomock not up yet).
      if ($('add-profile').dataset.loaded !== 'yes' && !loadingProfiles)
        loadProfiles();
      $('status-updated').textContent = new Date().toLocaleTimeString();
      clearPollError();
    } catch (e) {
      showError(e, 'update the fleet', true);
      showEmpty(true);
      $('status-updated').textContent = 'failed at ' + new Date().toLocaleTimeString();
    } finally {
      polling = false;
      schedule(pollAgain ? 0 : POLL_MS);
      pollAgain = false;
    }
  }

  function schedule (delay) {
    clearTimeout(pollTimer);
    pollTimer = 0;
    if (document.visibilityState === 'hidden') {
      $('status-updated').textContent = 'paused';
      return;
    }
    pollTimer = setTimeout(poll, delay);
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') {
      clearTimeout(pollTimer);
      pollTimer = 0;
      $('status-updated').textContent = 'paused';
    } else if (!polling) {
      poll();
    }
  });

  // ---- actions -----------------------------------------------------------

  function actionFailed (error, doing) {
    showError(error, doing, false);
  }

  async function restartDevice (row) {
    const hostname = row.device ? row.device.hostname : String(row.port);
    row.restartButton.disabled = true;
    try {
      const device = await api('POST', '/devices/' + row.port + '/restart');
      if (device && typeof device.port === 'number')
        showDevice(device);
      announce('Restarting ' + hostname + ' (port ' + row.port + ').');
    } catch (e) {
      row.restartButton.disabled = false;
      actionFailed(e, 'restart ' + hostname);
    }
  }

  function askRemove (row) {
    removing = row.device;
    if (!removing)
      return;
    $('remove-text').textContent =
      'Remove ' + removing.hostname + ' on port ' + removing.port + '? It stops answering at once.';
    $('remove-dialog').returnValue = '';
    $('remove-dialog').showModal();
  }

  $('remove-dialog').addEventListener('close', async () => {
    const device = removing;
    removing = null;
    if (!device || $('remove-dialog').returnValue !== 'remove')
      return;
    try {
      await api('DELETE', '/devices/' + device.port);
      forgetDevice(device.port);
      announce('Removed ' + device.hostname + ' (port ' + device.port + ').');
    } catch (e) {
      actionFailed(e, 'remove ' + device.hostname);
    }
  });

  $('add-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const options = {};
    const port = form.elements.port.value.trim();
    const hostname = form.elements.hostname.value.trim();
    const profile = form.elements.profile.value;
    if (port !== '')
      options.port = Number(port);
    if (hostname !== '')
      options.hostname = hostname;
    if (profile !== '')
      options.profile = profile;

    $('add-submit').disabled = true;
    try {
      const device = await api('POST', '/devices', options);
      if (device && typeof device.port === 'number') {
        showDevice(device);
        announce('Added ' + device.hostname + ' on port ' + device.port + '.');
      }
      form.elements.port.value = '';
      form.elements.hostname.value = '';
    } catch (e) {
      actionFailed(e, 'add the device');
    } finally {
      $('add-submit').disabled = false;
    }
  });

  let loadingProfiles = false;

  async function loadProfiles () {
    loadingProfiles = true;
    try {
      const data = await api('GET', '/profiles');
      const select = $('add-profile');
      const list = Array.isArray(data.profiles) ? data.profiles : [];
      for (const profile of list) {
        const name = typeof profile === 'string' ? profile : profile && profile.name;
        if (typeof name !== 'string')
          continue;
        const option = document.createElement('option');
        option.value = name;
        option.textContent = name;
        select.appendChild(option);
      }
      select.dataset.loaded = 'yes';
    } catch (e) {
      actionFailed(e, 'load the profiles');
    } finally {
      loadingProfiles = false;
    }
  }

  loadProfiles();
  poll();
})();
