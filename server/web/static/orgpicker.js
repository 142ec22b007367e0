/*
 * Org-unit picker: turns each select[data-org-picker] (an x-ui.org field, rendered by
 * server/forms/widgets.py) into a search box. Typing part of a name — 东风, 城关, 河口 东岗 — lists
 * the matching units as "城关街道 · 东风社区" (the parent's name finds its villages too); choosing one
 * puts its code into the select, which stays in the form, hidden, and is what gets submitted.
 * Without this script the select itself is shown. No third-party code: the intranet has no CDN.
 */
(function () {
  'use strict';

  var LIMIT = 50;

  function optionsOf(select) {
    return Array.prototype.filter.call(select.options, function (o) { return o.value !== ''; });
  }

  function matches(option, words) {
    var text = (option.textContent + ' ' + option.value).toLowerCase();
    return words.every(function (w) { return text.indexOf(w) !== -1; });
  }

  function itemOf(option, index, listId) {
    var li = document.createElement('li');
    li.className = 'list-group-item';
    li.id = listId + '-' + index;
    li.setAttribute('role', 'option');
    li.dataset.value = option.value;
    var parts = option.textContent.split(' · ');
    var name = document.createElement('span');
    name.className = 'x-ref-number';
    name.textContent = parts[parts.length - 1];
    li.appendChild(name);
    if (parts.length > 1) {
      var parent = document.createElement('span');
      parent.className = 'x-ref-label';
      parent.textContent = parts.slice(0, -1).join(' · ');
      li.appendChild(parent);
    }
    li.title = option.value;
    return li;
  }

  function enhance(select) {
    var input = document.createElement('input');
    var list = document.createElement('ul');
    var listId = select.id + '-units';
    var state = { items: [], active: -1 };
    input.type = 'text';
    input.id = select.id + '-search';
    input.className = select.className;
    input.autocomplete = 'off';
    input.placeholder = select.getAttribute('placeholder') || '输入名称查找';
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', listId);
    ['aria-describedby', 'aria-required', 'aria-invalid'].forEach(function (name) {
      if (select.hasAttribute(name)) { input.setAttribute(name, select.getAttribute(name)); }
    });
    list.className = 'list-group x-ref-list';
    list.id = listId;
    list.hidden = true;
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', '候选单位');
    var label = document.querySelector('label[for="' + select.id + '"]');
    if (label) { label.htmlFor = input.id; }
    var wrapper = document.createElement('div');
    wrapper.className = 'x-ref x-org-picker';
    select.parentNode.insertBefore(wrapper, select);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(select);
    select.hidden = true;
    select.tabIndex = -1;

    function chosenText() {
      var option = select.options[select.selectedIndex];
      return option && option.value !== '' ? option.textContent : '';
    }

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      state.active = -1;
    }

    function setActive(index) {
      state.active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.classList.toggle('active', i === index);
        li.setAttribute('aria-selected', i === index ? 'true' : 'false');
        if (i === index) { input.setAttribute('aria-activedescendant', li.id); li.scrollIntoView({ block: 'nearest' }); }
      });
    }

    function show() {
      var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var all = optionsOf(select).filter(function (o) { return matches(o, words); });
      state.items = all.slice(0, LIMIT);
      list.textContent = '';
      state.items.forEach(function (option, i) { list.appendChild(itemOf(option, i, listId)); });
      if (!state.items.length || all.length > LIMIT) {
        var note = document.createElement('li');
        note.className = 'list-group-item x-ref-empty';
        note.textContent = state.items.length ? '还有 ' + (all.length - LIMIT) + ' 个，请继续输入名称' : '没有名称相符的单位';
        list.appendChild(note);
      }
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      setActive(state.items.length === 1 ? 0 : -1);
    }

    function choose(option) {
      select.value = option.value;
      input.value = option.textContent;
      input.title = option.value;
      close();
      select.dispatchEvent(new Event('change', { bubbles: true }));
    }

    input.value = chosenText();
    input.title = select.value;
    input.addEventListener('input', show);
    input.addEventListener('focus', show);
    input.addEventListener('keydown', function (event) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        if (list.hidden) { show(); }
        var step = event.key === 'ArrowDown' ? 1 : -1;
        var count = state.items.length;
        if (count) { setActive((state.active + step + count) % count); }
        event.preventDefault();
      } else if (event.key === 'Enter' && !list.hidden) {
        if (state.active >= 0) { choose(state.items[state.active]); }
        event.preventDefault();  // Enter picks; it does not submit a half-chosen form
      } else if (event.key === 'Escape') {
        close();
      }
    });
    list.addEventListener('mousedown', function (event) {
      var li = event.target.closest('li[role="option"]');
      event.preventDefault();  // keep the focus in the box
      if (!li) { return; }
      var option = optionsOf(select).filter(function (o) { return o.value === li.dataset.value; })[0];
      if (option) { choose(option); }
    });
    input.addEventListener('blur', function () {
      close();
      if (input.value.trim() === '' && select.querySelector('option[value=""]:not([disabled])')) {
        select.value = '';
        select.dispatchEvent(new Event('change', { bubbles: true }));
      }
      input.value = chosenText();  // only a chosen unit counts; half-typed text goes back to it
      input.title = select.value;
    });
  }

  function init(root) {
    root.querySelectorAll('select[data-org-picker]').forEach(function (select) {
      if (select.closest('template') || select.dataset.orgPickerReady) { return; }
      select.dataset.orgPickerReady = '1';
      enhance(select);
    });
  }

  // An error-summary link names the select's id; the hidden select cannot take the focus, its box can.
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[href^="#"]');
    var select = link && document.getElementById(link.getAttribute('href').slice(1));
    var box = select && select.dataset.orgPickerReady && document.getElementById(select.id + '-search');
    if (box) { box.focus(); }
  }, true);

  document.addEventListener('DOMContentLoaded', function () {
    init(document);
    // Rows added later (forms.js clones a <template>) get their pickers as they appear.
    new MutationObserver(function () { init(document); }).observe(document.body, { childList: true, subtree: true });
  });
})();
