/* Security keys (WebAuthn) on the staff sign-in and security pages.
 *
 * A button with data-webauthn="register" or data-webauthn="sign-in" carries the
 * addresses of its two JSON endpoints (data-begin-url, data-complete-url); the CSRF
 * token comes from the page's form. The server answers the second call with
 * {redirect_url}, or {error, detail} which is shown in the element named by
 * data-status. Strings come from the page's jsi18n catalog (gettext), no inline script.
 */
(function () {
  "use strict";

  var t = typeof window.gettext === "function" ? window.gettext : function (s) { return s; };

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: body === undefined ? "{}" : JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || t("The server refused the request."));
          error.fromServer = true;
          throw error;
        }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function creationOptions(options) {
    var publicKey = Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      user: Object.assign({}, options.user, { id: toBytes(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
    return { publicKey: publicKey };
  }

  function requestOptions(options) {
    var publicKey = Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
    return { publicKey: publicKey };
  }

  function credentialJSON(credential, response) {
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: response,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function registrationJSON(credential) {
    var response = credential.response;
    return credentialJSON(credential, {
      clientDataJSON: toB64url(response.clientDataJSON),
      attestationObject: toB64url(response.attestationObject),
      transports: typeof response.getTransports === "function" ? response.getTransports() : [],
    });
  }

  function assertionJSON(credential) {
    var response = credential.response;
    return credentialJSON(credential, {
      clientDataJSON: toB64url(response.clientDataJSON),
      authenticatorData: toB64url(response.authenticatorData),
      signature: toB64url(response.signature),
      userHandle: response.userHandle ? toB64url(response.userHandle) : null,
    });
  }

  function browserMessage(error) {
    if (error.fromServer) return error.message;
    if (error.name === "NotAllowedError" || error.name === "AbortError") {
      return t("The key did not answer, or the request was cancelled. Try again.");
    }
    if (error.name === "InvalidStateError") {
      return t("This key is already enrolled.");
    }
    if (error.name === "SecurityError") {
      return t("This address cannot use security keys: open the site at its configured domain over HTTPS.");
    }
    return t("Something went wrong. Try again.");
  }

  function run(button) {
    var status = document.getElementById(button.dataset.status);
    var registering = button.dataset.webauthn === "register";
    function say(text) {
      if (status) status.textContent = text;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(t("This browser cannot use security keys."));
      return;
    }
    button.disabled = true;
    say(registering ? t("Touch your security key to add it…") : t("Touch your security key…"));
    post(button.dataset.beginUrl)
      .then(function (options) {
        return registering
          ? navigator.credentials.create(creationOptions(options))
          : navigator.credentials.get(requestOptions(options));
      })
      .then(function (credential) {
        say(t("Checking…"));
        return post(button.dataset.completeUrl, registering ? registrationJSON(credential) : assertionJSON(credential));
      })
      .then(function (data) {
        say(registering ? t("The key is added.") : t("Signed in."));
        window.location.assign(data.redirect_url);
      })
      .catch(function (error) {
        say(browserMessage(error));
        button.disabled = false;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-webauthn]");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      button.hidden = false;
      button.addEventListener("click", function (event) {
        event.preventDefault();
        run(event.currentTarget);
      });
    }
  });
})();
