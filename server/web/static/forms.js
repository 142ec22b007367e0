/*
 * Behaviour of generated forms (server/forms/render.py), driven only by data attributes because
 * the Content-Security-Policy forbids inline scripts and handlers:
 *   .x-rows / template.x-row-template / .x-row-add / .x-row-remove   repeatable rows
 *   .x-cond[data-cond]            conditional section: list of clauses that must all hold
 *   [data-show-when="<name>"]     shown while the named input has a value (dependentRequired)
 *   input[data-lookup]            record picker: a suggestion list (ul[role=listbox] next to the
 *                                 input) filled from our own JSON endpoint (?q=..., empty = newest)
 *   .x-error-summary              focused when the page opens with errors; its links focus fields
 * Hidden sections get their inputs disabled so the browser does not submit them; the server drops
 * inactive values anyway (the page also works, minus adding rows and suggestions, without this
 * script: the record number is typed).
 */
(function () {
  'use strict';

  var FIELDS = 'input[name], select[name], textarea[name]';
  var LOOKUP_DELAY = 200;

  function rootOf(el) {
    return (el && el.closest && el.closest('form')) || document;
  }

  /* ---- current values, as the server will parse them ---------------------------------- */

  function collectValues(root) {
    var byName = new Map();
    root.querySelectorAll(FIELDS).forEach(function (el) {
      if (el.disabled) { return; }
      if (!byName.has(el.name)) { byName.set(el.name, []); }
      byName.get(el.name).push(el);
    });
    return function valueOf(name) {
      var els = byName.get(name) || [];
      if (!els.length) { return undefined; }
      var first = els[0];
      if (first.type === 'radio') {  // the 不选 option has an empty value
        var picked = els.filter(function (e) { return e.checked; })[0];
        return picked && picked.value !== '' ? picked.value : undefined;
      }
      if (first.type === 'checkbox') {
        if (first.dataset.kind === 'boolean') { return first.checked; }
        var checked = els.filter(function (e) { return e.checked; }).map(function (e) { return e.value; });
        return checked.length ? checked : undefined;
      }
      var text = (first.value || '').trim();
      return text === '' ? undefined : text;
    };
  }

  function same(value, expected) {
    if (Array.isArray(value)) {
      return Array.isArray(expected) &&
        JSON.stringify(value.slice().sort()) === JSON.stringify(expected.map(String).sort());
    }
    if (typeof expected === 'number') {
      return typeof value === 'string' ? value !== '' && Number(value) === expected : value === expected;
    }
    if (typeof expected === 'boolean') {
      return value === expected || value === String(expected);
    }
    return typeof value === 'string' && value === expected;
  }

  function testHolds(test, valueOf) {
    var value = valueOf(test.name);
    if (value === undefined) { return !test.required; }
    if (Object.prototype.hasOwnProperty.call(test, 'const') && !same(value, test.const)) { return false; }
    if (Array.isArray(test.enum) && !test.enum.some(function (e) { return same(value, e); })) { return false; }
    return true;
  }

  function clauseHolds(clause, valueOf) {
    if (!Array.isArray(clause.tests)) { return true; }  // too rich for the page: the server decides
    var holds = clause.tests.every(function (t) { return testHolds(t, valueOf); });
    return clause.negate ? !holds : holds;
  }

  function condHolds(el, valueOf) {
    var clauses;
    try { clauses = JSON.parse(el.dataset.cond || '[]'); } catch (e) { return true; }
    return clauses.every(function (c) { return clauseHolds(c, valueOf); });
  }

  /* ---- showing and hiding sections ------------------------------------------------------ */

  function setShown(el, shown) {
    var wasShown = !el.classList.contains('x-off');
    el.classList.toggle('x-off', !shown);
    el.hidden = !shown;
    return wasShown !== shown;
  }

  function applyDisabled(root) {
    root.querySelectorAll(FIELDS).forEach(function (el) {
      var off = !!el.closest('.x-off');
      if (off && !el.disabled) {
        el.disabled = true;
        el.dataset.xDisabled = '1';
      } else if (!off && el.dataset.xDisabled) {
        el.disabled = false;
        delete el.dataset.xDisabled;
      }
    });
  }

  /* Repeated because hiding a section disables inputs that other conditions may test. */
  function refresh(root) {
    for (var pass = 0; pass < 8; pass++) {
      var valueOf = collectValues(root);
      var changed = false;
      root.querySelectorAll('.x-cond').forEach(function (el) {
        changed = setShown(el, condHolds(el, valueOf)) || changed;
      });
      root.querySelectorAll('[data-show-when]').forEach(function (el) {
        var value = valueOf(el.dataset.showWhen);
        changed = setShown(el, value !== undefined && value !== false) || changed;
      });
      applyDisabled(root);
      if (!changed) { return; }
    }
  }

  /* ---- repeatable rows ------------------------------------------------------------------ */

  function ownRows(body) {
    return Array.prototype.filter.call(body.children, function (el) {
      return el.classList.contains('x-row');
    });
  }

  function partsOf(rowsEl) {
    var body = null;
    var template = null;
    var add = null;
    Array.prototype.forEach.call(rowsEl.children, function (el) {
      if (el.classList.contains('x-rows-body')) { body = el; }
      if (el.classList.contains('x-row-template')) { template = el; }
      if (el.classList.contains('x-row-add')) { add = el; }
    });
    return { body: body, template: template, add: add };
  }

  function updateRows(rowsEl) {
    var parts = partsOf(rowsEl);
    if (!parts.body) { return; }
    var rows = ownRows(parts.body);
    rows.forEach(function (row, i) {
      var legend = Array.prototype.filter.call(row.children, function (el) {
        return el.tagName === 'LEGEND';
      })[0];
      var number = legend && legend.querySelector('.x-row-number');
      if (number) { number.textContent = String(i + 1); }
    });
    var max = parseInt(rowsEl.dataset.maxItems, 10);
    if (parts.add) { parts.add.disabled = !isNaN(max) && rows.length >= max; }
  }

  function addRow(rowsEl) {
    var parts = partsOf(rowsEl);
    if (!parts.body || !parts.template) { return; }
    var next = 0;
    ownRows(parts.body).forEach(function (row) {
      var index = parseInt(row.dataset.index, 10);
      if (!isNaN(index) && index >= next) { next = index + 1; }
    });
    var placeholder = parts.template.dataset.placeholder || '__index__';
    var html = parts.template.innerHTML.split(placeholder).join(String(next));
    parts.body.insertAdjacentHTML('beforeend', html);
    updateRows(rowsEl);
    var root = rootOf(rowsEl);
    refresh(root);
    var added = ownRows(parts.body).pop();
    var first = added && added.querySelector(FIELDS);
    if (first) { first.focus(); }
  }

  function removeRow(button) {
    var row = button.closest('.x-row');
    var rowsEl = row && row.closest('.x-rows');
    if (!row || !rowsEl) { return; }
    var root = rootOf(rowsEl);
    row.remove();
    updateRows(rowsEl);
    refresh(root);
  }

  /* ---- record pickers ------------------------------------------------------------------- */

  var pickers = new WeakMap();

  function pickerOf(input) {
    var state = pickers.get(input);
    if (!state) {
      state = { timer: 0, seq: 0, items: [], active: -1,
                list: document.getElementById(input.getAttribute('aria-controls') || '') };
      pickers.set(input, state);
    }
    return state.list ? state : null;
  }

  function isOpen(input) {
    return input.getAttribute('aria-expanded') === 'true';
  }

  function closeList(input) {
    var state = pickerOf(input);
    if (!state) { return; }
    clearTimeout(state.timer);
    state.seq++;  // a response still on its way must not reopen the list
    state.list.hidden = true;
    state.active = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  function setActive(input, index) {
    var state = pickerOf(input);
    var options = state.list.querySelectorAll('[role=option]:not([aria-disabled=true])');
    if (!options.length) { return; }
    index = (index + options.length) % options.length;
    options.forEach(function (el, i) {
      el.classList.toggle('active', i === index);
      el.setAttribute('aria-selected', i === index ? 'true' : 'false');
    });
    state.active = index;
    input.setAttribute('aria-activedescendant', options[index].id);
    options[index].scrollIntoView({ block: 'nearest' });
  }

  function showItems(input, items) {
    var state = pickerOf(input);
    if (!state || document.activeElement !== input) { return; }
    state.items = Array.isArray(items) ? items.slice(0, 10) : [];
    state.active = -1;
    state.list.textContent = '';
    input.removeAttribute('aria-activedescendant');
    state.items.forEach(function (item, i) {
      var li = document.createElement('li');
      li.className = 'list-group-item list-group-item-action';
      li.id = state.list.id + '-' + i;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      li.dataset.value = String(item.number);
      var number = document.createElement('span');
      number.className = 'x-ref-number';
      number.textContent = String(item.number);
      li.appendChild(number);
      if (item.label) {
        var label = document.createElement('span');
        label.className = 'x-ref-label';
        label.textContent = String(item.label);
        li.appendChild(label);
      }
      state.list.appendChild(li);
    });
    if (!state.items.length) {
      var none = document.createElement('li');
      none.className = 'list-group-item x-ref-empty';
      none.setAttribute('role', 'option');
      none.setAttribute('aria-disabled', 'true');
      none.textContent = input.value.trim() ? '没有找到匹配的记录' : '还没有记录';
      state.list.appendChild(none);
    }
    state.list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }

  function lookup(input, delay) {
    var state = pickerOf(input);
    if (!state) { return; }
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      var seq = ++state.seq;
      var base = input.dataset.lookup;
      var url = base + (base.indexOf('?') >= 0 ? '&' : '?') + 'q=' + encodeURIComponent(input.value.trim());
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (items) { if (seq === state.seq) { showItems(input, items); } })
        .catch(function () { /* the server checks the number on save anyway */ });
    }, delay === undefined ? LOOKUP_DELAY : delay);
  }

  function choose(input, option) {
    if (!option || option.getAttribute('aria-disabled') === 'true') { return; }
    input.value = option.dataset.value;
    closeList(input);
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  function onPickerKey(event) {
    var input = event.target;
    var state = pickerOf(input);
    if (!state) { return; }
    var key = event.key;
    if (key === 'ArrowDown' || key === 'ArrowUp') {
      event.preventDefault();
      if (!isOpen(input)) { lookup(input, 0); return; }
      setActive(input, state.active < 0 ? (key === 'ArrowDown' ? 0 : -1) : state.active + (key === 'ArrowDown' ? 1 : -1));
    } else if (key === 'Enter') {
      if (isOpen(input) && state.active >= 0) {
        event.preventDefault();  // choosing must not submit the form
        choose(input, state.list.querySelectorAll('[role=option]:not([aria-disabled=true])')[state.active]);
      }
    } else if (key === 'Escape') {
      if (isOpen(input)) {
        event.preventDefault();
        closeList(input);
      }
    } else if (key === 'Tab') {
      closeList(input);
    }
  }

  /* ---- wiring --------------------------------------------------------------------------- */

  document.addEventListener('click', function (event) {
    var option = event.target.closest && event.target.closest('.x-ref-list [role=option]');
    if (option) {
      var owner = document.querySelector('[aria-controls="' + option.parentNode.id + '"]');
      if (owner) { choose(owner, option); owner.focus(); }
      return;
    }
    var link = event.target.closest && event.target.closest('.x-error-summary a[href^="#"]');
    if (link) {
      if (focusField(link.getAttribute('href').slice(1))) { event.preventDefault(); }
      return;
    }
    var target = event.target.closest && event.target.closest('.x-row-add, .x-row-remove');
    if (!target) { return; }
    event.preventDefault();
    if (target.classList.contains('x-row-add')) {
      addRow(target.closest('.x-rows'));
    } else {
      removeRow(target);
    }
  });

  /* A click on a suggestion must not blur the input first (the list would close under it). */
  document.addEventListener('mousedown', function (event) {
    if (event.target.closest && event.target.closest('.x-ref-list')) { event.preventDefault(); }
  });

  function onChange(event) {
    var el = event.target;
    if (!el || !el.matches || !el.matches(FIELDS)) { return; }
    if (event.type === 'input' && el.dataset.lookup) { lookup(el); }
    refresh(rootOf(el));
  }

  document.addEventListener('input', onChange);
  document.addEventListener('change', onChange);
  document.addEventListener('focusin', function (event) {
    var el = event.target;
    if (el && el.dataset && el.dataset.lookup && !isOpen(el)) { lookup(el); }
  });
  document.addEventListener('focusout', function (event) {
    var el = event.target;
    if (el && el.dataset && el.dataset.lookup) { closeList(el); }
  });
  document.addEventListener('keydown', function (event) {
    var el = event.target;
    if (el && el.dataset && el.dataset.lookup) { onPickerKey(event); }
  });

  /* ---- error summary -------------------------------------------------------------------- */

  /* Focus the field behind a summary link: the control itself, or the first one of a group. */
  function focusField(id) {
    var target = document.getElementById(id);
    if (!target) { return false; }
    var control = target.matches(FIELDS) ? target : target.querySelector(FIELDS + ', button');
    var label = target.closest('.x-field, fieldset') || target;
    label.scrollIntoView({ block: 'center' });
    if (control && !control.disabled) {
      control.focus({ preventScroll: true });
    }
    return true;
  }

  function focusSummary() {
    var summary = document.querySelector('.x-error-summary');
    if (summary) { summary.focus(); }
  }

  function init() {
    document.querySelectorAll('.x-rows').forEach(updateRows);
    var roots = new Set();
    document.querySelectorAll('.x-cond, [data-show-when]').forEach(function (el) {
      roots.add(rootOf(el));
    });
    roots.forEach(refresh);
    focusSummary();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
