"""Demo canned answers: a few for every queue and some shared, so operators can try the
"insert a canned answer" menu on the ticket page and in the chat console."""

from tickets.models import CannedResponse, Queue

# (queue slug or None for every queue, title, text). Placeholders as in CannedResponse.
CANNED = [
    (
        None,
        "Приветствие",
        "Здравствуйте, {name}! Меня зовут {operator}, я займусь вашим обращением {number}.",
    ),
    (
        None,
        "Нужны подробности",
        "Чтобы разобраться, пришлите, пожалуйста, снимок экрана с ошибкой и укажите, "
        "в каком браузере вы работаете. Номер обращения: {number}.",
    ),
    (
        None,
        "Передано специалистам",
        "Мы передали ваше обращение {number} специалистам второй линии. "
        "Ответ придёт на этот адрес, номер обращения сохранится.",
    ),
    (
        None,
        "Вопрос решён?",
        "Мы выполнили всё необходимое по обращению {number}. Если вопрос не решён, "
        "просто ответьте на это письмо — обращение откроется снова.",
    ),
    (
        "navigator",
        "Код из СМС не приходит",
        "Запросите код повторно через 2–3 минуты и проверьте, что номер указан в формате "
        "+7XXXXXXXXXX. Если код так и не придёт, сообщите нам — проверим отправку.",
    ),
    (
        "booking",
        "Возврат оплаты",
        "Возврат за отменённое бронирование приходит на карту в течение 10 рабочих дней. "
        "Если деньги не поступили, пришлите номер заказа — мы уточним у банка.",
    ),
    (
        "portal",
        "Вход через Госуслуги",
        "Проверьте, что учётная запись на Госуслугах подтверждена, и войдите заново через "
        "кнопку «Войти через Госуслуги». Если ошибка повторится, пришлите её текст.",
    ),
]


def seed_canned_responses() -> int:
    """Create the demo canned answers that do not exist yet (by title); returns how many."""
    queues = {q.slug: q for q in Queue.objects.filter(slug__in={c[0] for c in CANNED if c[0]})}
    created = 0
    for slug, title, body in CANNED:
        queue = queues.get(slug) if slug else None
        if slug and queue is None:
            continue
        _, made = CannedResponse.objects.get_or_create(
            title=title, queue=queue, defaults={"body": body}
        )
        created += made
    return created
