"""The deterministic parser's language resources: vocabulary and messages in English, Portuguese and Spanish.

Patterns match text that ``text_fold`` has lower-cased and stripped of accents ("março" → "marco"), so each
word is written once without accents. Warning messages are in the *campaign text's* language (the document is
about that text, whatever the admin's interface language), so they live here, beside the vocabulary they
describe, rather than in the UI's translation catalogue.
"""

from __future__ import annotations

import unicodedata

LANGUAGES = ("en", "pt-br", "es")


def text_fold(text: str) -> str:
    """Lower-case ``text`` and drop accents, character by character, so positions stay those of ``text``."""
    folded = []
    for char in text:
        lower = char.lower()
        if len(lower) != 1:
            lower = char
        base = unicodedata.normalize("NFKD", lower)
        stripped = "".join(part for part in base if not unicodedata.combining(part))
        folded.append(stripped if len(stripped) == 1 else lower)
    return "".join(folded).replace("\u00a0", " ")


def alternation(words: list[str] | tuple[str, ...] | set[str]) -> str:
    """A regex alternation, longest first (so "milhoes" wins over "mil")."""
    return "|".join(sorted(set(words), key=lambda word: (-len(word), word)))


# ------------------------------------------------------------------------------------------------ dates
MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("january", "jan", "janeiro", "enero", "ene"),
        ("february", "feb", "fevereiro", "fev", "febrero"),
        ("march", "mar", "marco", "marzo"),
        ("april", "apr", "abril", "abr"),
        ("may", "maio", "mai", "mayo"),
        ("june", "jun", "junho", "junio"),
        ("july", "jul", "julho", "julio"),
        ("august", "aug", "agosto", "ago"),
        ("september", "sep", "sept", "setembro", "set", "septiembre", "setiembre"),
        ("october", "oct", "outubro", "out", "octubre"),
        ("november", "nov", "novembro", "noviembre"),
        ("december", "dec", "dezembro", "dez", "diciembre", "dic"),
    ),
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _number

ORDINALS: dict[str, int] = {
    "first": 1, "1st": 1, "primeiro": 1, "primeira": 1, "primer": 1, "primero": 1, "1o": 1, "1a": 1, "1er": 1,
    "1.o": 1, "1.er": 1, "1": 1,
    "second": 2, "2nd": 2, "segundo": 2, "segunda": 2, "2o": 2, "2a": 2, "2.o": 2, "2": 2,
    "third": 3, "3rd": 3, "terceiro": 3, "terceira": 3, "tercer": 3, "tercero": 3, "3o": 3, "3a": 3, "3er": 3,
    "3.o": 3, "3.er": 3, "3": 3,
    "fourth": 4, "4th": 4, "quarto": 4, "quarta": 4, "cuarto": 4, "4o": 4, "4a": 4, "4.o": 4, "4": 4,
}
RANGE_JOINERS = ("to", "through", "thru", "until", "till", "and", "-", "–", "—", "a", "ate", "ao", "e", "al",
                 "hasta", "y", "to the", "a la")
RANGE_OPENERS = ("from", "between", "de", "desde", "entre", "del", "starting", "beginning", "running from",
                 "valid from", "valida de", "vigente de", "vigencia de", "from the", "do dia", "del dia")
# Symbols and codes written before the number.
CURRENCY_PREFIXES: dict[str, str | None] = {
    "r$": "BRL", "brl": "BRL", "us$": "USD", "u$s": "USD", "usd": "USD", "u$": "USD", "€": "EUR", "eur": "EUR",
    "mx$": "MXN", "mxn": "MXN", "mex$": "MXN", "$": None,  # "$" alone: dollars or pesos, see the parser
}
# Names written after the number ("50 mil reais", "10,000 US dollars", "200 mil pesos mexicanos").
CURRENCY_SUFFIXES: dict[str, str] = {
    "reais": "BRL", "real": "BRL", "brazilian reals": "BRL", "brazilian real": "BRL", "reales": "BRL",
    "reales brasilenos": "BRL", "reais brasileiros": "BRL", "brl": "BRL",
    "dollars": "USD", "dollar": "USD", "us dollars": "USD", "usd": "USD", "dolares": "USD", "dolar": "USD",
    "dolares americanos": "USD", "dolares estadounidenses": "USD",
    "euros": "EUR", "euro": "EUR", "eur": "EUR",
    "pesos": "MXN", "peso": "MXN", "pesos mexicanos": "MXN", "mexican pesos": "MXN", "mxn": "MXN",
}
MULTIPLIERS: dict[str, int] = {
    "k": 1_000, "mil": 1_000, "thousand": 1_000,
    "milhao": 1_000_000, "milhoes": 1_000_000, "mi": 1_000_000, "million": 1_000_000, "millions": 1_000_000,
    "millon": 1_000_000, "millones": 1_000_000, "mm": 1_000_000,
}
POINT_WORDS = ("points", "point", "pts", "pt", "pontos", "ponto", "puntos", "punto")
UNIT_WORDS = ("units", "unit", "unidades", "unidade", "unidad", "pieces", "pecas", "piezas", "items", "itens",
              "articulos")
ORDER_WORDS = ("orders", "pedidos", "ordenes", "ordens")

# ------------------------------------------------------------------------------------------------ goals
GOAL_WORDS = ("goal", "goals", "target", "targets", "quota", "objective", "meta", "metas", "objetivo",
              "objetivos", "cuota", "alvo")
SCOPE_WORDS: dict[str, tuple[str, ...]] = {
    "individual": ("individual", "individuais", "individuales", "per salesperson", "per sales person",
                   "per seller", "per rep", "per participant", "each salesperson", "each seller",
                   "por vendedor", "por vendedora", "cada vendedor", "cada vendedora", "por participante",
                   "personal", "pessoal"),
    "region": ("regional", "regionais", "regionales", "per region", "por regiao", "por region", "each region",
               "cada regiao", "cada region", "da regiao", "de la region", "region goal"),
    "team": ("team", "equipe", "equipo", "por equipe", "por equipo", "squad"),
    "company": ("company", "company-wide", "companywide", "empresa", "companhia", "compania", "global",
                "corporate", "corporativa", "corporativo", "whole company", "toda a empresa", "toda la empresa"),
}
# Goal ids by scope: the seed calls them "individual" and "regional".
SCOPE_IDS = {"individual": "individual", "region": "regional", "team": "team", "company": "company"}
SALES_WORDS = ("sales", "sale", "vendas", "venda", "ventas", "venta", "revenue", "faturamento", "facturacion",
               "sold", "vendidos", "vendidas", "vendido")
REACH_WORDS = ("reach", "reaching", "reaches", "hit", "hitting", "achieve", "achieving", "meet", "meeting",
               "atingir", "atingindo", "atinge", "alcancar", "bater", "batendo", "cumprir", "alcanzar",
               "alcanzando", "alcanza", "cumplir", "superar", "lograr", "earns", "earn", "ganha", "gana",
               "vale", "gives", "awards", "otorga", "recebe", "recibe", "receives", "pays", "paga",
               "reaching it", "hitting it", "atingi-la", "atingir a meta", "alcanzarla", "al alcanzarla",
               "alcanzarlo", "cumplirla", "bater a meta")
FROM_FIRST_SALE_WORDS = ("from the first sale", "desde a primeira venda", "desde la primera venta",
                         "from the first", "every sale", "toda venda", "cada venta")

# ------------------------------------------------------------------------------------------------ eligibility
EMPLOYMENT_WORDS = ("employed", "employee", "employees", "employment", "staff", "funcionario", "funcionarios",
                    "funcionaria", "funcionarias", "empregado", "empregados", "colaborador", "colaboradores",
                    "vinculo", "contratado", "contratados", "empleado", "empleados", "empleada", "empleadas",
                    "contrato", "ativos", "ativo", "activos", "activo", "active", "actively", "leave", "leaves",
                    "left", "terminated", "desligados", "desligado", "desligadas", "desligada", "demitidos",
                    "baja", "dados de baja")
LAST_DAY_WORDS = ("last day", "ultimo dia", "end of the campaign", "end of the period", "campaign end",
                  "fim da campanha", "final da campanha", "fim do periodo", "final del periodo",
                  "final de la campana", "fin de la campana", "termino da campanha", "cierre de la campana",
                  "encerramento da campanha")
CANCELLED_WORDS = ("cancelled", "canceled", "cancellations", "cancelado", "cancelados", "cancelada",
                   "canceladas", "cancelamentos", "cancelaciones")
RETURNED_WORDS = ("returned", "returns", "refunded", "devolvido", "devolvidos", "devolvida", "devolvidas",
                  "devolucoes", "devuelto", "devueltos", "devuelta", "devueltas", "devoluciones", "estornado",
                  "estornados", "estornada", "estornadas")
NEW_CUSTOMER_WORDS = ("new customers", "new customer", "new clients", "first-time customers",
                      "first time customers", "first-time buyers", "novos clientes", "clientes novos",
                      "cliente novo", "novo cliente", "clientes nuevos", "nuevos clientes", "cliente nuevo",
                      "nuevo cliente")
MIN_ORDER_WORDS = ("minimum order value of", "minimum order value", "minimum order of", "minimum order",
                   "minimum purchase of", "orders above", "orders over", "orders of at least",
                   "orders worth at least", "orders greater than", "order value of at least",
                   "valor minimo do pedido de", "valor minimo do pedido", "valor minimo de pedido",
                   "valor minimo por pedido", "pedido minimo de", "pedido minimo", "pedidos acima de",
                   "pedidos a partir de", "pedidos de no minimo", "pedidos com valor minimo de",
                   "pedidos de pelo menos", "valor minimo del pedido de", "valor minimo del pedido",
                   "monto minimo de pedido", "monto minimo por pedido", "monto minimo de", "pedidos de al menos",
                   "pedidos superiores a", "pedidos mayores a", "pedidos mayores de", "pedidos por encima de",
                   "compra minima de")

# ------------------------------------------------------------------------------------------------ caps
CAP_WORDS = ("maximum of", "maximum", "max", "max.", "up to", "at most", "cap of", "cap", "capped at",
             "limit of", "limit", "limite de", "limite", "maximo de", "maximo", "no maximo", "ate", "hasta",
             "tope de", "tope", "como maximo")
PER_PARTICIPANT_WORDS = ("per participant", "per salesperson", "per seller", "per person", "per rep",
                         "each participant", "por participante", "por vendedor", "por vendedora", "por pessoa",
                         "por persona", "cada participante", "cada vendedor")
BUDGET_WORDS = ("total budget", "budget", "points budget", "point budget", "orcamento total", "orcamento",
                "orcamento de pontos", "presupuesto total", "presupuesto", "presupuesto de puntos",
                "total pool", "pool")

# ------------------------------------------------------------------------------------------------ prizes
PRIZE_VERBS = ("redeem", "redeems", "exchange", "trade", "costs", "cost", "worth", "resgatar", "resgate",
               "troque", "trocar", "trocado", "custa", "canjear", "canjea", "canje", "cuesta", "vale")
ARTICLES = ("a", "an", "the", "um", "uma", "o", "os", "as", "un", "una", "el", "la", "los", "las")

# ------------------------------------------------------------------------------------------------ sections
SECTIONS: dict[str, tuple[str, ...]] = {
    "goals": ("goals", "goal", "targets", "metas", "meta", "objetivos", "objetivo", "cuotas"),
    "eligibility": ("eligibility criteria", "eligibility", "eligibility rules", "rules", "criterios de elegibilidade",
                    "elegibilidade", "regras", "criterios de elegibilidad", "elegibilidad", "reglas", "conditions",
                    "condicoes", "condiciones"),
    "prizes": ("prizes", "prize", "rewards", "catalog", "catalogue", "premios", "premio", "premiacao",
               "recompensas", "catalogo", "redemption", "resgate", "canje"),
    "accrual": ("accrual", "points", "scoring", "pontuacao", "pontos", "puntos", "puntuacion", "accelerators",
                "aceleradores"),
    "period": ("period", "dates", "periodo", "vigencia", "duration", "duracao", "duracion", "fechas", "datas"),
    "caps": ("caps", "limits", "budget", "limites", "orcamento", "presupuesto", "topes"),
}
NAME_LABELS = ("campaign name", "campaign", "name", "nome da campanha", "campanha", "nome",
               "nombre de la campana", "campana", "nombre", "title", "titulo")

# Words that carry no rule of their own: whatever else a clause says must be understood or reported.
_FILLER_WORDS = """
quem quien ganhe gane ganhem ganen
a an the of in on at to for from by with and or but as is are be been being was were will shall must
should can could may might do does did not no only all any each every per this that these those it
its their there which who whom whose than then also just both either neither nor such same other
others own so too very what when where how if into onto upon over under above below between through
during before after until till up down out off again further once here about against within without
across along around users user participants participant salespeople salesperson sellers seller reps
rep people person team members member everyone everybody anyone employees employee staff sales sale
sold revenue amount amounts value total totals worth products product items item goods orders order
purchases purchase deals deal transactions goal goals target targets quota quotas objective
objectives eligible eligibility ineligible count counts counted counting excluded exclude excludes
excluding exclusion considered consider qualify qualifies qualifying included include includes
including apply applies applied earn earns earned earning get gets receive receives received gives
give awarded award awards pays pay paid win wins won reward rewards prize prizes points point pts
campaign campaigns period line lines reach reaches reached reaching hit hits achieve achieves
achieved achieving meet meets met meeting attain attains attained attaining last day days end ending
ends rule rules following follows follow criteria criterion condition conditions have has had need
needs required requires actively active currently still remain remains brazilian reals real dollars
dollar euros euro pesos peso mexican us status statuses state one two de da das dos em na nos nas ao
aos o os e ou um uma uns umas para por pelo pela pelos pelas com sem que se seu sua seus suas cada
todo toda todos todas apenas somente tambem nao sao ser sera serao estar esta estao estejam sejam
seja foi foram ate entre sobre sob apos antes depois durante desde contra usuarios usuario
participantes vendedores vendedor vendedora vendedoras colaboradores colaborador funcionarios
funcionario funcionarias funcionaria pessoas pessoa equipe time membros membro vendas venda vendidos
vendidas vendido valor valores totais produtos produto itens pedidos pedido compras compra metas
meta objetivo objetivos alvo elegivel elegiveis inelegiveis conta contam contar contada contadas
contados excluido excluidos excluida excluidas considerado considerados consideradas considerada
incluido incluidos incluidas incluida aplica aplicam ganha ganham ganhar recebe recebem receber
premio premios premiacao pontos ponto campanha campanhas periodo linha linhas atingir atinge atingem
atingido atingida atingirem alcancar alcancam bater batem cumprir ultimo ultima dia dias fim final
regra regras seguinte seguintes criterio criterios condicao condicoes devem deve precisam precisa
tem ter ativo ativos ativa ativas empregados empregado vinculo reais brasileiros situacao el la los
las lo un una unos unas y u del al con sin su sus solo solamente tambien son seran estan sean sea
fue fueron hasta tras despues empleados empleado empleadas empleada personas persona equipo miembros
miembro ventas venta totales productos producto articulos articulo cuota cuotas elegible elegibles
cuenta cuentan aplican gana ganan ganar recibe reciben recibir puntos punto campana campanas linea
lineas alcanzar alcanza alcanzan cumplir fin regla reglas siguiente siguientes condicion condiciones
deben debe necesitan necesita tiene tener activo activos activa activas empleo contrato reales
dolares mexicanos estado estados otorga otorgan dan vale valen paga pagan regional individual
individuales regionais regionales runs run running lasts valid sell sells selling accelerator
accelerators bonus take part parts participate participates participating participation join joins
participa participam participar participacao valida vigente vigora vender vendam vende valendo nem
acelerador aceleradores participan participe participen corre vendan valiendo ni en alcanzarla
alcanzarlo atingi-la atingila alcanza-la cumplirla
"""
FILLER = frozenset(_FILLER_WORDS.split())

# ------------------------------------------------------------------------------------------------ language
_MARKERS_EN = """
the and of goal goals sales points must are only products from until employed users prizes
eligibility criteria per each earn earns reaching with for is be not or to quarter between
through region regional line customers new orders minimum budget
"""
_MARKERS_PT = """
meta metas vendas pontos linha nao sao ate funcionarios ativos ultimo dia da do das dos ao com
apenas somente premios elegiveis canceladas devolvidas reais mil trimestre janeiro fevereiro
marco junho julho setembro outubro dezembro regiao regional cada para pedidos clientes novos e
um uma ganha atingir campanha orcamento viagem
"""
_MARKERS_ES = """
meta metas ventas puntos linea hasta empleados activos ultimo dia del la las los el con solo
premios elegibles canceladas devueltas pesos trimestre enero febrero marzo junio julio
septiembre octubre diciembre region regional cada para pedidos clientes nuevos y un una gana
alcanzar campana presupuesto viaje objetivo primer
"""
LANGUAGE_MARKERS: dict[str, frozenset[str]] = {
    "en": frozenset(_MARKERS_EN.split()),
    "pt-br": frozenset(_MARKERS_PT.split()),
    "es": frozenset(_MARKERS_ES.split()),
}
LANGUAGE_CHARS = {"pt-br": "ãõçâê", "es": "ñ¿¡"}

# ------------------------------------------------------------------------------------------------ messages
# Every warning the parser can give: (message, question) per language; {placeholders} are filled in.
MESSAGES: dict[str, dict[str, tuple[str, str | None]]] = {
    "unrecognized_text": {
        "en": ("This part of the text was not understood: “{text}”.",
               "What should “{text}” mean for the campaign's rules?"),
        "pt-br": ("Este trecho do texto não foi entendido: “{text}”.",
                  "O que “{text}” deve significar nas regras da campanha?"),
        "es": ("No se entendió esta parte del texto: “{text}”.",
               "¿Qué debe significar “{text}” en las reglas de la campaña?"),
    },
    "missing_period": {
        "en": ("The text gives no campaign period.", "On which dates does the campaign start and end?"),
        "pt-br": ("O texto não informa o período da campanha.", "Em que datas a campanha começa e termina?"),
        "es": ("El texto no indica el período de la campaña.", "¿En qué fechas empieza y termina la campaña?"),
    },
    "incomplete_period": {
        "en": ("Only one end of the campaign period was found ({date}).",
               "On which date does the campaign {side}?"),
        "pt-br": ("Só uma das datas do período foi encontrada ({date}).",
                  "Em que data a campanha {side}?"),
        "es": ("Solo se encontró una de las fechas del período ({date}).",
               "¿En qué fecha {side} la campaña?"),
    },
    "ambiguous_period": {
        "en": ("The text gives more than one period: {periods}.", "Which of these periods is the campaign's?"),
        "pt-br": ("O texto informa mais de um período: {periods}.", "Qual desses é o período da campanha?"),
        "es": ("El texto indica más de un período: {periods}.", "¿Cuál de estos es el período de la campaña?"),
    },
    "invalid_date": {
        "en": ("“{text}” is not a valid date.", "Which date did you mean by “{text}”?"),
        "pt-br": ("“{text}” não é uma data válida.", "Que data você quis dizer com “{text}”?"),
        "es": ("“{text}” no es una fecha válida.", "¿Qué fecha quiso decir con “{text}”?"),
    },
    "missing_currency": {
        "en": ("The amounts have no currency.", "In which currency are the amounts: BRL, USD, EUR or MXN?"),
        "pt-br": ("Os valores não têm moeda.", "Em que moeda estão os valores: BRL, USD, EUR ou MXN?"),
        "es": ("Los montos no tienen moneda.", "¿En qué moneda están los montos: BRL, USD, EUR o MXN?"),
    },
    "ambiguous_currency": {
        "en": ("“$” can mean US dollars or Mexican pesos; {currency} was assumed.",
               "Are the amounts in US dollars (USD) or Mexican pesos (MXN)?"),
        "pt-br": ("“$” pode ser dólar americano ou peso mexicano; foi assumido {currency}.",
                  "Os valores estão em dólares americanos (USD) ou pesos mexicanos (MXN)?"),
        "es": ("“$” puede ser dólar estadounidense o peso mexicano; se asumió {currency}.",
               "¿Los montos están en dólares estadounidenses (USD) o en pesos mexicanos (MXN)?"),
    },
    "currency_mismatch": {
        "en": ("The text mixes currencies ({currencies}); the document uses {currency}.",
               "Which single currency should the campaign use?"),
        "pt-br": ("O texto mistura moedas ({currencies}); o documento usa {currency}.",
                  "Qual moeda única a campanha deve usar?"),
        "es": ("El texto mezcla monedas ({currencies}); el documento usa {currency}.",
               "¿Qué moneda única debe usar la campaña?"),
    },
    "missing_goal": {
        "en": ("No sales goal was found.",
               "What is the goal (an amount, a quantity or a number of orders), and whose sales count?"),
        "pt-br": ("Nenhuma meta de vendas foi encontrada.",
                  "Qual é a meta (valor, quantidade ou número de pedidos) e de quem são as vendas que contam?"),
        "es": ("No se encontró ninguna meta de ventas.",
               "¿Cuál es la meta (monto, cantidad o número de pedidos) y de quién son las ventas que cuentan?"),
    },
    "missing_target": {
        "en": ("The {goal} goal has no target.", "What is the target of the {goal} goal?"),
        "pt-br": ("A meta {goal} não tem valor.", "Qual é o valor da meta {goal}?"),
        "es": ("La meta {goal} no tiene valor.", "¿Cuál es el valor de la meta {goal}?"),
    },
    "missing_reward": {
        "en": ("The text does not say how many points the {goal} goal earns.",
               "How many points does reaching the {goal} goal earn?"),
        "pt-br": ("O texto não diz quantos pontos a meta {goal} vale.",
                  "Quantos pontos vale atingir a meta {goal}?"),
        "es": ("El texto no dice cuántos puntos otorga la meta {goal}.",
               "¿Cuántos puntos otorga alcanzar la meta {goal}?"),
    },
    "ambiguous_scope": {
        "en": ("The text does not say whose sales count for the goal “{text}”; individual was assumed.",
               "Is this goal per salesperson, per team, per region or for the whole company?"),
        "pt-br": ("O texto não diz de quem são as vendas da meta “{text}”; foi assumida meta individual.",
                  "Esta meta é por vendedor, por equipe, por região ou da empresa toda?"),
        "es": ("El texto no dice de quién son las ventas de la meta “{text}”; se asumió meta individual.",
               "¿Esta meta es por vendedor, por equipo, por región o de toda la empresa?"),
    },
    "ambiguous_goal": {
        "en": ("It is not clear which goal “{text}” applies to.", "Which goal does “{text}” apply to: {goals}?"),
        "pt-br": ("Não está claro a qual meta “{text}” se aplica.", "A qual meta “{text}” se aplica: {goals}?"),
        "es": ("No está claro a qué meta se aplica “{text}”.", "¿A qué meta se aplica “{text}”: {goals}?"),
    },
    "budget_in_money": {
        "en": ("The budget is an amount of money ({amount}); budgets are counted in points.",
               "How many points can the campaign award in total?"),
        "pt-br": ("O orçamento está em dinheiro ({amount}); orçamentos são contados em pontos.",
                  "Quantos pontos a campanha pode distribuir no total?"),
        "es": ("El presupuesto está en dinero ({amount}); los presupuestos se cuentan en puntos.",
               "¿Cuántos puntos puede otorgar la campaña en total?"),
    },
    "accrual_above_goal": {
        "en": ("Points per unit count on all the goal's sales, not only on what exceeds the goal.",
               "Should the {goal} goal's points per unit count on all sales, or only above the goal?"),
        "pt-br": ("Os pontos por unidade contam sobre todas as vendas da meta, não só sobre o que passar da meta.",
                  "Os pontos por unidade da meta {goal} devem contar sobre todas as vendas ou só acima da meta?"),
        "es": ("Los puntos por unidad cuentan sobre todas las ventas de la meta, no solo sobre lo que supere "
               "la meta.",
               "¿Los puntos por unidad de la meta {goal} deben contar sobre todas las ventas o solo por encima "
               "de la meta?"),
    },
    "unsupported_condition": {
        "en": ("Your sales schema has no {concept}, so “{text}” cannot be checked.",
               "Where in your data is the {concept}, or should “{text}” be dropped?"),
        "pt-br": ("Seu esquema de vendas não tem {concept}, então “{text}” não pode ser verificado.",
                  "Onde nos seus dados está {concept}, ou “{text}” deve ser removido?"),
        "es": ("Su esquema de ventas no tiene {concept}, así que “{text}” no se puede verificar.",
               "¿Dónde está {concept} en sus datos, o se debe quitar “{text}”?"),
    },
    "unmapped_status": {
        "en": ("Your schema's order statuses do not say which values mean “{status}”.",
               "Which order status values mean “{status}”?"),
        "pt-br": ("Os status de pedido do seu esquema não dizem quais valores significam “{status}”.",
                  "Quais valores de status de pedido significam “{status}”?"),
        "es": ("Los estados de pedido de su esquema no dicen qué valores significan “{status}”.",
               "¿Qué valores de estado de pedido significan “{status}”?"),
    },
}

# The concepts of a schema mapping, as the warnings name them.
CONCEPT_NAMES: dict[str, dict[str, str]] = {
    "customer": {"en": "customer", "pt-br": "cliente", "es": "cliente"},
    "employment_end": {"en": "employment end date", "pt-br": "data de desligamento",
                       "es": "fecha de baja del empleado"},
    "order_status": {"en": "order status", "pt-br": "status do pedido", "es": "estado del pedido"},
    "product_line": {"en": "product line", "pt-br": "linha de produto", "es": "línea de producto"},
    "category": {"en": "product category", "pt-br": "categoria de produto", "es": "categoría de producto"},
    "sku": {"en": "product SKU", "pt-br": "SKU do produto", "es": "SKU del producto"},
    "region": {"en": "region", "pt-br": "região", "es": "región"},
    "team": {"en": "team", "pt-br": "equipe", "es": "equipo"},
    "quantity": {"en": "quantity", "pt-br": "quantidade", "es": "cantidad"},
    "line_amount": {"en": "sales amount", "pt-br": "valor de venda", "es": "monto de venta"},
    "order_date": {"en": "order date", "pt-br": "data do pedido", "es": "fecha del pedido"},
    "salesperson": {"en": "salesperson", "pt-br": "vendedor", "es": "vendedor"},
}
STATUS_NAMES = {
    "cancelled": {"en": "cancelled", "pt-br": "cancelado", "es": "cancelado"},
    "returned": {"en": "returned", "pt-br": "devolvido", "es": "devuelto"},
}
SIDES = {
    "start": {"en": "start", "pt-br": "começa", "es": "empieza"},
    "end": {"en": "end", "pt-br": "termina", "es": "termina"},
}
# Names the parser gives a campaign the text does not name.
DEFAULT_NAME = {"en": "Sales campaign", "pt-br": "Campanha de vendas", "es": "Campaña de ventas"}
QUARTER_LABEL = {"en": "Q{quarter} {year}", "pt-br": "{quarter}º trimestre de {year}",
                 "es": "T{quarter} {year}"}
GOAL_LABELS = {
    "individual": {"en": "individual", "pt-br": "individual", "es": "individual"},
    "regional": {"en": "regional", "pt-br": "regional", "es": "regional"},
    "team": {"en": "team", "pt-br": "de equipe", "es": "de equipo"},
    "company": {"en": "company", "pt-br": "da empresa", "es": "de la empresa"},
}
