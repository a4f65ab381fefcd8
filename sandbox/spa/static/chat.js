// 智能问答 of 示范省一体化政务服务平台: drawn when /api/chat/widget says so, asks /api/chat.
(function () {
  'use strict';
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function post(path, body) {
    return fetch(path, {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        data.httpStatus = r.status;
        return data;
      });
    });
  }

  function draw(config) {
    // An unlabelled entry: an icon drawn by CSS, no words, no name.
    var fab = config.labelled
      ? el('button', {type: 'button', 'class': 'zs-fab', 'aria-label': config.title}, '问')
      : el('span', {'class': 'zs-fab zs-icon'});
    var box = el('section', {'class': 'zs-box', role: 'dialog', 'aria-label': config.title});
    box.hidden = true;
    var head = el('div', {'class': 'zs-head'}, config.title);
    var close = el('button', {type: 'button', 'class': 'zs-close', 'aria-label': '收起'}, '—');
    head.appendChild(close);
    var list = el('div', {'class': 'zs-list'});
    var bar = el('div', {'class': 'zs-bar'});
    var input = el('input', {type: 'text', 'class': 'zs-input',
      placeholder: '请描述您要办理的事项', 'aria-label': '请描述您要办理的事项'});
    var send = el('button', {type: 'button', 'class': 'zs-send', 'aria-label': '发送'}, '➤');
    bar.appendChild(input);
    bar.appendChild(send);
    box.appendChild(head);
    box.appendChild(list);
    box.appendChild(bar);
    document.body.appendChild(fab);
    document.body.appendChild(box);
    var greeted = false;

    function say(who, text, links) {
      var row = el('div', {'class': 'zs-row zs-' + who});
      row.appendChild(el('div', {'class': 'zs-text'}, text));
      (links || []).forEach(function (link) {
        var a = el('a', {href: link.url, 'class': 'zs-link'}, link.title);
        row.appendChild(a);
      });
      list.appendChild(row);
      list.scrollTop = list.scrollHeight;
      return row;
    }

    fab.addEventListener('click', function () {
      box.hidden = !box.hidden;
      if (box.hidden || greeted) return;
      greeted = true;
      fetch('/api/chat/welcome').then(function (r) { return r.json(); }).then(function (data) {
        say('bot', data.data.reply);
      });
    });
    close.addEventListener('click', function () { box.hidden = true; });

    function ask() {
      var question = input.value.trim();
      if (!question) return;
      input.value = '';
      say('me', question);
      var thinking = say('wait', '正在思考…');
      post('/api/chat', {question: question}).then(function (data) {
        thinking.remove();
        if (data.httpStatus >= 400 || data.code !== 0) { say('bot', '服务异常，请稍后重试'); return; }
        say('bot', data.data.reply, data.data.links);
      }, function () { thinking.remove(); say('bot', '网络连接失败'); });
    }

    send.addEventListener('click', ask);
    input.addEventListener('keydown', function (e) { if (e.key === 'Enter') ask(); });
  }

  fetch('/api/chat/widget').then(function (r) { return r.json(); }).then(function (config) {
    if (config.enabled) draw(config);
  });
})();
