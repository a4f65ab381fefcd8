// 示范省一体化政务服务平台: a hash router rendering every view from the /api/ answers.
(function () {
  'use strict';
  var view = document.getElementById('view');
  var seq = 0; // the newest route wins: answers of older routes are dropped

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  function api(path, body) {
    var init = body === undefined ? {} : {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
    };
    return fetch(path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        data.httpStatus = r.status;
        return data;
      });
    });
  }

  function spinner() {
    view.innerHTML = '<div class="loading" role="progressbar" aria-busy="true">正在加载，请稍候…</div>';
  }

  function toast(text) {
    var box = document.createElement('div');
    box.className = 'toast';
    box.setAttribute('role', 'status');
    box.textContent = text;
    document.getElementById('toasts').appendChild(box);
    setTimeout(function () { box.remove(); }, 3000);
  }

  function finder(value) {
    return '<form class="finder" role="search" id="finder">'
      + '<input id="kw" type="text" placeholder="请输入您要查找的事项" value="' + esc(value || '') + '">'
      + '<button type="submit">检索</button></form>';
  }

  function bindFinder() {
    var form = document.getElementById('finder');
    if (!form) return;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var kw = document.getElementById('kw').value.trim();
      location.hash = '#/search?q=' + encodeURIComponent(kw) + '&page=1';
    });
  }

  function card(item) {
    return '<div class="card"><a href="#/item/' + esc(item.id) + '">' + esc(item.name) + '</a>'
      + '<span>' + esc(item.dept) + '</span></div>';
  }

  function plainCard(item) {
    return '<div class="card" data-id="' + esc(item.id) + '" onclick="location.hash=\'#/item/'
      + esc(item.id) + '\'"><b>' + esc(item.name) + '</b><span>' + esc(item.dept) + '</span></div>';
  }

  function failed(data) {
    view.innerHTML = '<h1>服务暂时无法访问</h1><p>' + esc(data.msg || '请稍后再试') + '</p>';
  }

  var views = {
    home: function (mine) {
      return api('/api/home').then(function (data) {
        if (mine !== seq) return;
        view.innerHTML = '<h1>欢迎访问示范省一体化政务服务平台</h1>' + finder('')
          + '<h2>高频服务</h2>' + data.hot.map(card).join('')
          + '<p class="hcp">好差评：<a href="#/reviews">评价公开</a></p>';
        bindFinder();
      });
    },
    list: function (mine, aud) {
      return api('/api/list/' + encodeURIComponent(aud)).then(function (data) {
        if (mine !== seq) return;
        view.innerHTML = '<h1>' + (aud === 'legal' ? '法人服务' : '个人服务') + '</h1><ul class="themes">'
          + data.themes.map(function (t) {
            return '<li><a href="#/theme/' + esc(aud) + '?name=' + encodeURIComponent(t) + '">' + esc(t) + '</a></li>';
          }).join('') + '</ul>';
      });
    },
    theme: function (mine, aud, query) {
      var name = query.get('name') || '';
      return api('/api/list/' + encodeURIComponent(aud) + '?theme=' + encodeURIComponent(name)).then(function (data) {
        if (mine !== seq) return;
        var more = (data.more || []).map(function (href) {
          return '<div class="card"><a href="' + esc(href) + '">更多事项</a></div>';
        }).join('');
        view.innerHTML = '<h1>' + esc(name) + '</h1>'
          + (data.items.length ? data.items.map(card).join('') : '<p>暂无数据</p>') + more;
      });
    },
    search: function (mine, _arg, query) {
      var q = query.get('q') || '';
      var page = parseInt(query.get('page') || '1', 10) || 1;
      return api('/api/search?q=' + encodeURIComponent(q) + '&page=' + page).then(function (data) {
        if (mine !== seq) return;
        if (data.httpStatus >= 400) { failed(data); return; }
        var pages = Math.max(1, Math.ceil(data.total / data.size));
        var more = page < pages ? '<button type="button" id="next">下一页</button>' : '';
        view.innerHTML = finder(q) + '<p>共找到 ' + data.total + ' 个相关事项</p>'
          + (data.list.length ? data.list.map(data.linked === false ? plainCard : card).join('')
            : '<p>未找到相关事项，请更换关键词</p>')
          + '<div class="pager"><span>第 ' + page + ' / ' + pages + ' 页</span>' + more + '</div>';
        bindFinder();
        var next = document.getElementById('next');
        if (next) next.addEventListener('click', function () {
          location.hash = '#/search?q=' + encodeURIComponent(q) + '&page=' + (page + 1);
        });
      });
    },
    item: function (mine, id) {
      return api('/api/items/' + encodeURIComponent(id)).then(function (data) {
        if (mine !== seq) return;
        if (data.httpStatus >= 400) { failed(data); return; }
        var facts = data.info.map(function (e) {
          return '<dt>' + esc(e[0]) + '</dt><dd>' + esc(e[1]) + '</dd>';
        }).join('')
          + '<dt>空白表格</dt><dd>' + (data.blank_form ? '<a href="' + esc(data.blank_form.href) + '">'
          + esc(data.blank_form.name) + '</a>' : '无') + '</dd>';
        var rows = data.materials.map(function (m) {
          return '<tr><td>' + esc(m.name) + '</td><td>' + esc(m.from) + '</td><td>' + esc(m.shape)
            + '</td><td>' + esc(m.count) + '</td><td>'
            + (data.sample_form ? '<a href="' + esc(data.sample_form) + '">查看</a>' : '无') + '</td></tr>';
        }).join('');
        var steps = data.steps.map(function (s) {
          return '<li><strong>' + esc(s.name) + '</strong>' + (s.limit ? '（' + esc(s.limit) + '）' : '')
            + esc(s.what) + '</li>';
        }).join('');
        var online = data.online;
        view.innerHTML = (data.banner ? '<img class="banner" src="/spa/img/guide-banner.png" alt="办事指南">' : '')
          + '<h1>' + esc(data.name) + '</h1><p>实施机构：' + esc(data.dept) + '</p>'
          + '<p class="online">' + (online.badge ? '<span class="badge">' + esc(online.badge) + '</span> ' : '')
          + (online.new_tab
            ? '<button type="button" class="btn" id="apply-tab">' + esc(online.label) + '</button>'
            : '<a class="btn" href="' + esc(online.href) + '">' + esc(online.label) + '</a>') + '</p>'
          + (data.rating ? '<p class="rate">' + (data.rating.icon
            ? '<span class="pj-icon" onclick="location.hash=\'' + esc(data.rating.href) + '\'">☆</span>'
            : '<a class="btn" href="' + esc(data.rating.href) + '">' + esc(data.rating.label) + '</a>')
            + '</p>' : '')
          + '<div class="tabs" role="tablist">'
          + '<button role="tab" aria-selected="true" data-tab="facts" aria-controls="facts">基本信息</button>'
          + '<button role="tab" aria-selected="false" data-tab="stuff" aria-controls="stuff">办理材料</button>'
          + '<button role="tab" aria-selected="false" data-tab="flow" aria-controls="flow">办事流程</button></div>'
          + '<section role="tabpanel" id="facts"><dl class="facts"' + (data.tiny ? ' style="font-size:10px"' : '')
          + '>' + facts + '</dl></section>'
          + '<section role="tabpanel" id="stuff" hidden>'
          + (rows ? '<table class="' + (data.wide ? 'wide' : '') + '"><thead><tr><th>材料名称</th><th>来源渠道</th>'
            + '<th>材料形式</th><th>份数</th><th>示例样表</th></tr></thead><tbody>' + rows
            + '</tbody></table>' : '') + '</section>'
          + '<section role="tabpanel" id="flow" hidden>' + (steps ? '<ol>' + steps + '</ol>' : '') + '</section>'
          + (data.wide ? '<table class="wide"><tr><td>办理结果：' + esc(data.result) + '</td></tr></table>' : '');
        var tabButton = document.getElementById('apply-tab');
        if (tabButton) tabButton.addEventListener('click', function () { window.open('/' + online.href); });
        if (data.track) setTimeout(function () { guideTracker.view(data.id); }, 0);
        view.querySelectorAll('[role=tab]').forEach(function (tab) {
          tab.addEventListener('click', function () {
            view.querySelectorAll('[role=tab]').forEach(function (t) {
              t.setAttribute('aria-selected', String(t === tab));
              document.getElementById(t.dataset.tab).hidden = t !== tab;
            });
          });
        });
      });
    },
    apply: function (mine, id) {
      return api('/api/apply/' + encodeURIComponent(id)).then(function (data) {
        if (mine !== seq) return;
        if (data.httpStatus >= 400) { failed(data); return; }
        if (data.mode === 'offline') {
          view.innerHTML = '<h1>' + esc(data.name) + '</h1><p class="err" role="alert">' + esc(data.msg) + '</p>';
        } else if (data.mode === 'login') {
          view.innerHTML = '<h1>统一身份认证 用户登录</h1><p>办理网上申报前请先登录。</p><form id="uc" novalidate>'
            + '<div class="row"><label for="uc-name">账号</label><input id="uc-name" autocomplete="username"></div>'
            + '<div class="row"><label for="uc-pwd">密码</label><input id="uc-pwd" type="password"></div>'
            + '<button type="submit">登录</button></form>';
        } else {
          view.innerHTML = '<h1>' + esc(data.name) + ' — 网上申报</h1>'
            + '<p>本事项实行全程网办，申请、受理、审查、决定及送达均在网上完成，无需到现场。</p><form id="apply" novalidate>'
            + '<div class="row"><label for="a-name">申请人姓名</label><input id="a-name"></div>'
            + '<div class="row"><label for="a-id">证件号码</label><input id="a-id"></div>'
            + '<div class="row"><label for="a-phone">联系电话</label><input id="a-phone" type="tel"></div>'
            + '<div class="row"><label for="a-files">上传申请材料</label><input id="a-files" type="file" multiple></div>'
            + '<button type="submit">提交申请</button></form>';
        }
      });
    },
    more: function (mine, id, query, parts) {
      return api('/api/more/' + encodeURIComponent(id) + '/' + encodeURIComponent(parts[2] || '1')).then(function (data) {
        if (mine !== seq) return;
        if (data.httpStatus >= 400) { failed(data); return; }
        view.innerHTML = '<h1>更多事项（第' + data.level + '页）</h1>'
          + (data.onward ? '<div class="card"><a href="' + esc(data.onward) + '">更多事项</a></div>' : card(data.item));
      });
    },
    register: function (mine, kind) {
      if (!kind) {
        view.innerHTML = '<h1>新用户注册</h1><p>请选择注册类型：</p><ul>'
          + '<li><a href="#/register/personal">个人用户注册</a></li>'
          + '<li><a href="#/register/legal">法人用户注册</a></li></ul>';
        return Promise.resolve();
      }
      return api('/api/register/rules?kind=' + encodeURIComponent(kind)).then(function (data) {
        if (mine !== seq) return;
        var pattern = new RegExp(data.pattern);
        var slide = data.captcha
          ? '<div class="row slide" id="slide"><span class="slide-track">向右滑动完成安全验证</span>'
            + '<span class="slide-knob" role="slider" aria-label="滑动验证" aria-valuenow="0" tabindex="0">→</span></div>'
          : '';
        view.innerHTML = '<h1>' + (kind === 'legal' ? '法人用户注册' : '个人用户注册') + '</h1>'
          + '<form id="reg" novalidate>'
          + '<div class="row"><label for="mobile">手机号码</label><input id="mobile" type="tel" maxlength="11">'
          + '<span class="err" id="mobile-err"></span></div>' + slide
          + '<div class="row"><label for="pwd">设置密码</label><input id="pwd" type="password"></div>'
          + '<div class="row"><label for="sms">短信验证码</label><input id="sms">'
          + '<button type="button" id="send">获取短信验证码</button></div>'
          + '<button type="submit">立即注册</button></form>';
        var verified = false; // set once the knob is dragged to the end (a citizen's hand)
        var knob = view.querySelector('.slide-knob');
        if (knob) knob.addEventListener('mousedown', function (e) {
          var x0 = e.clientX;
          var move = function (m) {
            if (m.clientX - x0 < 200) return;
            verified = true;
            knob.setAttribute('aria-valuenow', '100');
            view.querySelector('.slide-track').textContent = '验证通过';
            document.removeEventListener('mousemove', move);
          };
          document.addEventListener('mousemove', move);
        });
        var mobile = document.getElementById('mobile');
        var err = document.getElementById('mobile-err');
        mobile.addEventListener('blur', function () {
          err.textContent = '';
          var phone = mobile.value.trim();
          if (!phone) return;
          if (!pattern.test(phone)) { err.textContent = '手机号码格式有误'; return; }
          api('/api/register/phone-check', {phone: phone}).then(function (answer) {
            // A silent portal keeps the refusal to itself until the citizen goes further.
            if (mobile.value.trim() === phone && !answer.ok && !data.silent) err.textContent = answer.msg;
          });
        });
        mobile.addEventListener('input', function () { err.textContent = ''; });
        var send = document.getElementById('send');
        send.addEventListener('click', function () {
          api('/api/register/sms', {kind: kind, mobile: mobile.value.trim(), verified: verified}).then(function (answer) {
            toast(answer.message || '发送失败');
            if (answer.status !== 'ok') return;
            var left = 60;
            send.disabled = true;
            send.textContent = left + '秒后重新获取';
            var timer = setInterval(function () {
              left -= 1;
              send.textContent = left + '秒后重新获取';
              if (left <= 0) { clearInterval(timer); send.disabled = false; send.textContent = '获取短信验证码'; }
            }, 1000);
          });
        });
        document.getElementById('reg').addEventListener('submit', function (e) {
          e.preventDefault();
          var code = document.getElementById('sms').value.trim();
          if (!code) { toast('请先获取短信验证码'); return; }
          api('/api/register', {
            kind: kind, mobile: mobile.value.trim(), code: code,
            password: document.getElementById('pwd').value
          }).then(function (answer) { toast(answer.message || '注册失败'); });
        });
      });
    },
    consult: function (mine) {
      return api('/api/departments').then(function (data) {
        if (mine !== seq) return;
        var options = data.list.map(function (d) {
          return '<option value="' + esc(d.code) + '">' + esc(d.name) + '</option>';
        }).join('');
        view.innerHTML = '<h1>在线咨询</h1><p>您可以就办事过程中的问题写信咨询，我们将在5个工作日内答复。</p>'
          + '<button type="button" id="write">我要写信</button>'
          + '<p><a href="#/query">办理结果查询</a></p>'
          + '<dialog id="letter" aria-label="写信咨询"><form id="letter-form" method="dialog" novalidate>'
          + '<div class="row"><label for="l-kind">信件类型</label><select id="l-kind">'
          + '<option>咨询</option><option>投诉</option><option>建议</option></select></div>'
          + '<div class="row"><label for="l-dept">所属部门</label><select id="l-dept" required>'
          + '<option value="">--请选择--</option>' + options + '</select></div>'
          + '<div class="row"><label for="l-title">信件标题</label><input id="l-title"></div>'
          + '<div class="row"><label for="l-content">信件内容</label><textarea id="l-content" rows="5"></textarea></div>'
          + '<div class="row"><label for="l-name">姓名</label><input id="l-name"></div>'
          + '<div class="row"><label for="l-phone">手机号码</label><input id="l-phone"></div>'
          + '<button type="submit">提交</button> <button type="button" id="l-close">取消</button>'
          + '</form></dialog>';
        var dialog = document.getElementById('letter');
        document.getElementById('write').addEventListener('click', function () { dialog.showModal(); });
        document.getElementById('l-close').addEventListener('click', function () { dialog.close(); });
        document.getElementById('letter-form').addEventListener('submit', function (e) {
          e.preventDefault();
          var value = function (id) { return document.getElementById(id).value.trim(); };
          if (!value('l-dept')) { toast('请选择所属部门'); return; }
          api('/api/letters', {
            kind: value('l-kind'), dept: value('l-dept'), title: value('l-title'),
            content: value('l-content'), name: value('l-name'), phone: value('l-phone')
          }).then(function (answer) {
            if (!answer.ok) { toast(answer.msg || '提交失败'); return; }
            dialog.close();
            toast('提交成功！信件编号：' + answer.number + '，您的信件查询码为：' + answer.code + '，请妥善保存。');
          });
        });
      });
    },
    rate: function (mine, _arg, query) {
      // The rating form of a guide (?item=) or a replied letter (?letter=); never stored.
      var subject = query.get('item') || query.get('letter') || '';
      var levels = ['非常满意', '满意', '基本满意', '不满意', '非常不满意'];
      view.innerHTML = '<h1>服务评价</h1><p>评价对象：' + esc(subject) + '</p><form id="rate" novalidate>'
        + '<div class="row" role="radiogroup" aria-label="满意度">' + levels.map(function (l, i) {
          return '<label><input type="radio" name="level" value="' + (5 - i) + '"> ' + l + '</label>';
        }).join(' ') + '</div>'
        + '<div class="row"><label for="r-note">评价内容</label><textarea id="r-note" rows="4"></textarea></div>'
        + '<button type="submit">提交</button></form>';
      document.getElementById('rate').addEventListener('submit', function (e) {
        e.preventDefault();
        toast('感谢您的评价！');
      });
      return Promise.resolve();
    },
    reviews: function (mine) {
      return api('/api/reviews').then(function (data) {
        if (mine !== seq) return;
        view.innerHTML = '<h1>' + esc(data.title) + '</h1><p>差评及整改回复情况</p>' + data.list.map(function (r) {
          return '<div class="card review"><p>评价编号：' + esc(r.number) + '</p><p>评价对象：' + esc(r.item)
            + '</p><p>满意度：' + esc(r.level) + '</p><p>评价日期：' + esc(r.rated) + '</p><p>处理状态：'
            + esc(r.state) + '</p>' + (r.replied ? '<p>办结时间：' + esc(r.replied) + '</p>' : '') + '</div>';
        }).join('');
      });
    },
    query: function () {
      view.innerHTML = '<h1>办理结果查询</h1><form id="ask" novalidate>'
        + '<div class="row"><label for="q-number">信件编号</label><input id="q-number"></div>'
        + '<div class="row"><label for="q-code">查询码</label><input id="q-code"></div>'
        + '<button type="submit">查询</button></form><div id="answer"></div>';
      document.getElementById('ask').addEventListener('submit', function (e) {
        e.preventDefault();
        var answerBox = document.getElementById('answer');
        answerBox.innerHTML = '<div class="loading" role="progressbar" aria-busy="true">正在查询…</div>';
        api('/api/letters/query', {
          number: document.getElementById('q-number').value.trim(),
          code: document.getElementById('q-code').value.trim()
        }).then(function (data) {
          if (data.httpStatus >= 400) { answerBox.innerHTML = '<h2>系统异常</h2><p>请稍后再试</p>'; return; }
          if (!data.ok) { answerBox.innerHTML = '<p class="err">' + esc(data.msg) + '</p>'; return; }
          answerBox.innerHTML = '<dl class="facts"><dt>信件编号</dt><dd>' + esc(data.number) + '</dd>'
            + '<dt>信件标题</dt><dd>' + esc(data.title) + '</dd>'
            + '<dt>提交时间</dt><dd>' + esc(data.submitted) + '</dd></dl>'
            + '<p>办理状态：' + esc(data.status) + '</p>'
            + (data.reply ? '<p>答复时间：' + esc(data.replied) + '</p><p>答复内容：' + esc(data.reply) + '</p>' : '')
            + (data.rate ? '<p><a class="btn" href="' + esc(data.rate) + '">评价本次答复</a></p>' : '');
        });
      });
      return Promise.resolve();
    }
  };

  function route() {
    var mine = ++seq;
    var hash = location.hash.replace(/^#\/?/, '');
    var path = hash.split('?')[0];
    var query = new URLSearchParams(hash.split('?')[1] || '');
    var parts = path.split('/');
    var name = parts[0] || 'home';
    var handler = views[name] || views.home;
    spinner();
    handler(mine, decodeURIComponent(parts[1] || ''), query, parts).catch(function () {
      if (mine === seq) failed({});
    });
  }

  // 关怀版: a class on <html>, kept across visits. A portal whose care style never
  // shipped (the care_mode_inert fault) sets a class no style uses.
  var care = document.getElementById('care-switch');
  if (care) {
    var careClass = care.dataset.inert ? 'elder' : 'care';
    var setCare = function (on) {
      document.documentElement.classList.toggle(careClass, on);
      care.setAttribute('aria-pressed', String(on));
      care.textContent = on ? '退出关怀版' : '关怀版';
      try { localStorage.setItem('care', on ? '1' : '0'); } catch (e) { /* private mode */ }
    };
    var stored = null;
    try { stored = localStorage.getItem('care'); } catch (e) { /* private mode */ }
    if (stored === '1') setCare(true);
    care.addEventListener('click', function () {
      setCare(!document.documentElement.classList.contains(careClass));
    });
  }

  window.addEventListener('hashchange', route);
  route();
})();
