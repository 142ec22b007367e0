/* The admin pages under the site's CSP (script-src 'self'): flask-admin's templates use inline onclick
   handlers and javascript: links, which the browser refuses. The overrides in templates/admin/ drop the
   handlers; this file does their work: bulk actions (data-admin-action), no navigation to the remaining
   javascript: links, and the copy button of a new API token. Written here; no third-party code. */
(function () {
  'use strict';

  document.documentElement.lang = 'zh-CN';

  document.addEventListener('click', function (event) {
    var target = event.target;
    var link = target && target.closest ? target.closest('a') : null;
    if (link) {
      var action = link.getAttribute('data-admin-action');
      if (action) {
        event.preventDefault();
        if (window.modelActions) { window.modelActions.execute(action); }
        return;
      }
      var href = link.getAttribute('href') || '';
      if (href === '#' || href.indexOf('javascript:') === 0) { event.preventDefault(); }
    }
    var copy = target && target.closest ? target.closest('[data-copy]') : null;
    if (copy) {
      var input = document.querySelector(copy.getAttribute('data-copy'));
      if (!input) { return; }
      input.focus();
      input.select();
      var done = function () { copy.textContent = '已复制'; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {});
      } else if (document.execCommand && document.execCommand('copy')) {
        done();
      }
    }
  }, true);

  var token = document.querySelector('.admin-token');
  if (token) {
    token.addEventListener('focus', function () { token.select(); });
  }
})();
