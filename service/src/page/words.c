/* The self-service page in English and Spanish (see words.h). */
#include "words.h"

static const struct page_words english = {
        .other_language = "Español",
        .other_code = "es",
        .footer = "Questions? Call {1} on {2}.",

        .identity_title = "Confirm it's you",
        .identity_intro =
                "For your security, please confirm who you are before we show you anything about your "
                "account.",
        .dob_legend = "Your date of birth",
        .dob_hint = "For example, 27 3 1980",
        .day = "Day",
        .month = "Month",
        .year = "Year",
        .postcode = "Postcode or ZIP code",
        .continue_ = "Continue",
        .or_code = "Or we can text a one-time code to the phone number we have for you.",
        .send_code = "Text me a code",
        .code_sent = "We have texted a code to your number ending {1}. It works for 10 minutes.",
        .code_label = "The 6-digit code from the text",
        .no_method = "We can't confirm who you are online. Please call us on {1}.",
        .err_mismatch =
                "Those details don't match our records. You can try {1} more times before this link is "
                "locked.",
        .err_incomplete = "Please enter your full date of birth and your postcode.",
        .err_session_over = "For your security, please confirm it's you again.",
        .err_code_unavailable =
                "We can't text you a code right now. Please use your date of birth and postcode, "
                "or call us on {1}.",

        .hello = "Hello, {1}",
        .account_with = "Your account with {1}",
        .balance = "Balance",
        .reference = "Reference",
        .plan_now = "Your plan: {1} a week. Next payment: {2} on {3}. {4} payments left.",
        .pending_now = "Your proposal of {1} a week is waiting for an associate to confirm it, by {2}.",
        .question = "How much can you afford to pay each week?",
        .cant_pay =
                "Can't pay this week? Tell us what you can afford each week and we will set up a new plan.",
        .amount_label = "Amount each week ({1})",
        .minimum_hint =
                "The least we can agree straight away is {1} a week, which would clear your balance in "
                "{2} weeks.",
        .first_date_label = "Date of your first payment",
        .first_date_hint = "Any day from {1} to {2}.",
        .see_plan = "Show me the plan",
        .budget_link = "Not sure? Work it out with our budget helper",
        .budget_result = "From your budget, you could afford {1} a week.",
        .settle_link = "Would you rather settle with one sum? Tell us what would be fair",
        .signout = "Sign out",

        .proposal_title = "Your plan",
        .offered = "You offered {1} a week, starting on {2}.",
        .clears = "That would clear your balance of {1} in {2} weeks.",
        .schedule_caption = "Your payments (dates in your time zone, {1})",
        .col_payment = "Payment",
        .col_date = "Date",
        .col_amount = "Amount",
        .more_payments = "… then {1} more payments, the last on {2}",
        .in_policy = "We can agree this plan straight away.",
        .replaces = "It replaces your current plan.",
        .agree = "Agree this plan",
        .out_policy = "We can't agree this plan straight away:",
        .reason_minimum = "it is less than {1} a week, the least that clears the balance in {2} weeks",
        .reason_weeks = "it would take longer than {1} weeks",
        .reason_budget = "it is more than your budget allows ({1} a week)",
        .send_for_approval_text =
                "You can still send it to us: an associate will confirm within one business day "
                "(by {1}).",
        .send_for_approval = "Send it for approval",
        .change_amount = "Change the amount",

        .agreed_title = "Your plan is agreed",
        .agreed_text = "{1} a week from {2}: {3} payments.",
        .texted = "We will also send you a text to confirm it, if we may text you.",
        .pending_title = "Thank you: an associate will confirm within one business day",
        .pending_text = "We will be in touch by {1}. Until then, your current arrangement stays as it is.",
        .back = "Back to my account",

        .budget_title = "Budget helper",
        .budget_intro =
                "Enter what comes in and goes out each month. Leave blank what doesn't apply. We will work "
                "out what you could afford each week.",
        .section_income = "Money coming in each month",
        .section_fixed = "Fixed costs each month",
        .section_flexible = "Flexible costs each month",
        .work_it_out = "Work out what I can afford",
        .categories = {"Earnings from work", "Benefits", "Pensions", "Other income",
                       "Home and contents (rent, mortgage, insurance)", "Utilities (energy, water)",
                       "Care and health", "Transport and travel", "School costs", "Pensions and insurances",
                       "Professional costs", "Other essential costs", "Phone, internet and leisure",
                       "Food and housekeeping", "Personal costs", "Savings"},

        .settle_title = "Settle your account",
        .settle_question = "What do you think would be a fair amount to settle your balance of {1}?",
        .offer_label = "Your offer ({1})",
        .make_offer = "Make my offer",
        .offer_ok = "We can accept {1} to settle your account.",
        .offer_low = "Your offer of {1} is less than we can accept straight away. We could settle for {2}.",
        .take_counter = "Settle for {1}",
        .take_offer = "Send my offer of {1} for an associate to consider",
        .low_note = "Either way, an associate will confirm within one business day (by {1}).",
        .installments_label = "How do you want to pay it?",
        .one_payment = "In one payment",
        .weekly_n = "In {1} weekly payments",
        .accept = "Accept",

        .invalid_title = "This link isn't valid",
        .invalid_text = "Check the link in your text message, or call us on {1}.",
        .expired_title = "This link has expired",
        .expired_text = "Call us on {1} and we will give you a new one.",
        .revoked_title = "This link is no longer valid",
        .revoked_text = "Call us on {1}.",
        .locked_title = "This link is locked",
        .locked_text = "It was locked after too many attempts to confirm who you are. Please call us on {1}.",
        .rate_title = "Too many attempts",
        .rate_text = "Please wait {1} minutes, then try again.",
        .signed_out_title = "You have signed out",
        .signed_out_text = "You can open your link again while it is valid.",
        .cross_title = "This form has expired",
        .cross_text = "Please open your link again and try once more.",

        .err_invalid_amount = "Please enter an amount, such as 25.00.",
        .err_invalid_date = "Please enter a date.",
        .err_date_past = "The first payment can't be before today.",
        .err_date_far = "The first payment must be within 60 days.",
        .err_too_long =
                "At that amount it would take more than ten years to clear the balance. Please enter a "
                "larger amount.",
        .err_changed = "Your account changed in the meantime. Please look at it again.",
        .err_above_balance = "Your offer is more than your balance.",
        .err_not_open = "There is nothing left to arrange on this account.",
        .err_generic = "Sorry, we couldn't do that. Please try again, or call us on {1}.",
};

static const struct page_words spanish = {
        .other_language = "English",
        .other_code = "en",
        .footer = "¿Preguntas? Llame a {1} al {2}.",

        .identity_title = "Confirme que es usted",
        .identity_intro =
                "Por su seguridad, confirme quién es antes de que le mostremos nada sobre su cuenta.",
        .dob_legend = "Su fecha de nacimiento",
        .dob_hint = "Por ejemplo, 27 3 1980",
        .day = "Día",
        .month = "Mes",
        .year = "Año",
        .postcode = "Código postal",
        .continue_ = "Continuar",
        .or_code =
                "O podemos enviarle un código de un solo uso por mensaje de texto al número de teléfono que "
                "tenemos.",
        .send_code = "Enviarme un código",
        .code_sent = "Le hemos enviado un código al número que termina en {1}. Es válido durante 10 minutos.",
        .code_label = "El código de 6 dígitos del mensaje",
        .no_method = "No podemos confirmar su identidad en línea. Llámenos al {1}.",
        .err_mismatch =
                "Esos datos no coinciden con nuestros registros. Puede intentarlo {1} veces más antes de "
                "que este enlace se bloquee.",
        .err_incomplete = "Indique su fecha de nacimiento completa y su código postal.",
        .err_session_over = "Por su seguridad, confirme de nuevo que es usted.",
        .err_code_unavailable = "Ahora no podemos enviarle un código. Use su fecha de nacimiento y su código "
                                "postal, o llámenos al {1}.",

        .hello = "Hola, {1}",
        .account_with = "Su cuenta con {1}",
        .balance = "Saldo",
        .reference = "Referencia",
        .plan_now = "Su plan: {1} a la semana. Próximo pago: {2} el {3}. Quedan {4} pagos.",
        .pending_now =
                "Su propuesta de {1} a la semana está pendiente de que un asociado la confirme, antes del "
                "{2}.",
        .question = "¿Cuánto puede pagar cada semana?",
        .cant_pay =
                "¿No puede pagar esta semana? Díganos cuánto puede pagar cada semana y prepararemos un plan "
                "nuevo.",
        .amount_label = "Importe semanal ({1})",
        .minimum_hint =
                "Lo mínimo que podemos acordar de inmediato es {1} a la semana, con lo que saldaría su "
                "saldo en {2} semanas.",
        .first_date_label = "Fecha de su primer pago",
        .first_date_hint = "Cualquier día entre el {1} y el {2}.",
        .see_plan = "Ver el plan",
        .budget_link = "¿No está seguro? Calcúlelo con nuestra ayuda para el presupuesto",
        .budget_result = "Según su presupuesto, podría pagar {1} a la semana.",
        .settle_link = "¿Prefiere saldar la cuenta con una sola cantidad? Díganos qué le parecería justo",
        .signout = "Cerrar sesión",

        .proposal_title = "Su plan",
        .offered = "Usted ofrece {1} a la semana, a partir del {2}.",
        .clears = "Con eso saldaría su saldo de {1} en {2} semanas.",
        .schedule_caption = "Sus pagos (fechas en su zona horaria, {1})",
        .col_payment = "Pago",
        .col_date = "Fecha",
        .col_amount = "Importe",
        .more_payments = "… y {1} pagos más, el último el {2}",
        .in_policy = "Podemos acordar este plan de inmediato.",
        .replaces = "Sustituye a su plan actual.",
        .agree = "Acordar este plan",
        .out_policy = "No podemos acordar este plan de inmediato:",
        .reason_minimum = "es inferior a {1} a la semana, lo mínimo para saldar el saldo en {2} semanas",
        .reason_weeks = "tardaría más de {1} semanas",
        .reason_budget = "es más de lo que permite su presupuesto ({1} a la semana)",
        .send_for_approval_text =
                "Aún puede enviárnoslo: un asociado lo confirmará en un día hábil (antes del "
                "{1}).",
        .send_for_approval = "Enviarlo para su aprobación",
        .change_amount = "Cambiar el importe",

        .agreed_title = "Su plan está acordado",
        .agreed_text = "{1} a la semana a partir del {2}: {3} pagos.",
        .texted = "También le enviaremos un mensaje de texto de confirmación, si podemos escribirle.",
        .pending_title = "Gracias: un asociado lo confirmará en un día hábil",
        .pending_text =
                "Nos pondremos en contacto con usted antes del {1}. Hasta entonces, su acuerdo actual sigue "
                "igual.",
        .back = "Volver a mi cuenta",

        .budget_title = "Ayuda para el presupuesto",
        .budget_intro =
                "Indique lo que ingresa y lo que gasta cada mes. Deje en blanco lo que no corresponda. "
                "Calcularemos cuánto podría pagar cada semana.",
        .section_income = "Ingresos mensuales",
        .section_fixed = "Gastos fijos mensuales",
        .section_flexible = "Gastos variables mensuales",
        .work_it_out = "Calcular lo que puedo pagar",
        .categories = {"Ingresos del trabajo", "Prestaciones", "Pensiones", "Otros ingresos",
                       "Vivienda y contenido (alquiler, hipoteca, seguro)", "Suministros (energía, agua)",
                       "Cuidados y salud", "Transporte y viajes", "Gastos escolares", "Pensiones y seguros",
                       "Gastos profesionales", "Otros gastos esenciales", "Teléfono, internet y ocio",
                       "Alimentación y hogar", "Gastos personales", "Ahorros"},

        .settle_title = "Saldar su cuenta",
        .settle_question = "¿Qué cantidad le parecería justa para saldar su saldo de {1}?",
        .offer_label = "Su oferta ({1})",
        .make_offer = "Hacer mi oferta",
        .offer_ok = "Podemos aceptar {1} para saldar su cuenta.",
        .offer_low =
                "Su oferta de {1} es inferior a lo que podemos aceptar de inmediato. Podríamos saldarla por "
                "{2}.",
        .take_counter = "Saldar por {1}",
        .take_offer = "Enviar mi oferta de {1} para que la estudie un asociado",
        .low_note = "En ambos casos, un asociado lo confirmará en un día hábil (antes del {1}).",
        .installments_label = "¿Cómo quiere pagarlo?",
        .one_payment = "En un solo pago",
        .weekly_n = "En {1} pagos semanales",
        .accept = "Aceptar",

        .invalid_title = "Este enlace no es válido",
        .invalid_text = "Compruebe el enlace de su mensaje de texto o llámenos al {1}.",
        .expired_title = "Este enlace ha caducado",
        .expired_text = "Llámenos al {1} y le daremos uno nuevo.",
        .revoked_title = "Este enlace ya no es válido",
        .revoked_text = "Llámenos al {1}.",
        .locked_title = "Este enlace está bloqueado",
        .locked_text = "Se bloqueó tras demasiados intentos de confirmar su identidad. Llámenos al {1}.",
        .rate_title = "Demasiados intentos",
        .rate_text = "Espere {1} minutos y vuelva a intentarlo.",
        .signed_out_title = "Ha cerrado la sesión",
        .signed_out_text = "Puede volver a abrir su enlace mientras sea válido.",
        .cross_title = "Este formulario ha caducado",
        .cross_text = "Vuelva a abrir su enlace e inténtelo otra vez.",

        .err_invalid_amount = "Indique un importe, por ejemplo 25,00.",
        .err_invalid_date = "Indique una fecha.",
        .err_date_past = "El primer pago no puede ser anterior a hoy.",
        .err_date_far = "El primer pago debe ser dentro de 60 días.",
        .err_too_long =
                "Con ese importe tardaría más de diez años en saldar el saldo. Indique un importe mayor.",
        .err_changed = "Su cuenta ha cambiado mientras tanto. Revísela de nuevo.",
        .err_above_balance = "Su oferta es superior a su saldo.",
        .err_not_open = "No queda nada que acordar en esta cuenta.",
        .err_generic = "No hemos podido hacerlo. Inténtelo de nuevo o llámenos al {1}.",
};

const struct page_words *page_words_for(enum lang l)
{
	return l == LANG_ES ? &spanish : &english;
}
