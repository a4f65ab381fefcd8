// 智能客服 of 示范省政务服务网: the question is posted by XHR, the answer comes back as HTML.
(function () {
  'use strict';
  var entry = document.getElementById('znkf-entry');
  var panel = document.getElementById('znkf-panel');
  var log = document.getElementById('znkf-log');
  var form = document.getElementById('znkf-form');
  var input = document.getElementById('znkf-q');
  if (!entry || !panel) return;

  function toggle(open) {
    panel.hidden = !open;
    entry.setAttribute('aria-expanded', String(open));
    if (open) input.focus();
  }

  function bubble(className, text) {
    var box = document.createElement('div');
    box.className = 'znkf-msg ' + className;
    var p = document.createElement('p');
    p.textContent = text;
    box.appendChild(p);
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
    return box;
  }

  entry.addEventListener('click', function () { toggle(panel.hidden); });
  document.getElementById('znkf-close').addEventListener('click', function () { toggle(false); });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var question = input.value.trim();
    if (!question) return;
    input.value = '';
    bubble('znkf-me', question);
    var typing = bubble('znkf-typing', '小示正在输入…');
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8');
    xhr.onload = function () {
      typing.remove();
      if (xhr.status !== 200) { bubble('znkf-bot', '系统繁忙，请稍后再试。'); return; }
      log.insertAdjacentHTML('beforeend', xhr.responseText);
      log.scrollTop = log.scrollHeight;
    };
    xhr.onerror = function () { typing.remove(); bubble('znkf-bot', '网络异常，请稍后再试。'); };
    xhr.send('question=' + encodeURIComponent(question));
  });
})();
