// Short sample texts for `nanochat tok-eval`, one paragraph per domain (written for this project).
// They probe what a tokenizer trained mostly on English prose does with other kinds of text.

export const EVAL_SAMPLES: Record<string, string> = {
  news: `(Riverside, March 14) City council members voted 7-2 on Tuesday night to approve a $48.5 million plan that will rebuild the aging Harbor Street bridge and add protected bike lanes along three miles of the waterfront. Construction is expected to begin next spring and last roughly 18 months, during which commuters will be detoured to the Elm Avenue crossing. "This bridge carries more than 30,000 vehicles a day, and its inspections have been getting worse every year," said council president Maria Delgado. Opponents argued that the city should first repair neighborhood roads, many of which have not been repaved since 2009. The state transportation department has agreed to cover 60% of the cost, with the remainder coming from a bond approved by voters in November.`,

  korean: `지난 주말 서울 도심에서는 봄을 맞아 다양한 문화 행사가 열렸다. 시민들은 가족, 친구들과 함께 공원을 산책하며 따뜻한 날씨를 즐겼고, 거리 곳곳에서는 음악 공연과 전시회가 이어졌다. 한 시민은 "오랜만에 아이들과 밖에서 시간을 보낼 수 있어서 정말 좋았다"고 말했다. 서울시는 다음 달에도 한강 공원을 중심으로 야외 영화 상영과 체험 프로그램을 운영할 계획이라고 밝혔다. 다만 주말 동안 교통이 혼잡할 수 있으니 대중교통을 이용해 달라고 당부했다.`,

  code: `import json
from pathlib import Path

class Inventory:
    """Keeps item counts and saves them to a JSON file."""

    def __init__(self, path: Path):
        self.path = path
        self.items: dict[str, int] = {}
        if path.exists():
            self.items = json.loads(path.read_text())

    def add(self, name: str, count: int = 1) -> None:
        if count <= 0:
            raise ValueError(f"count must be positive, got {count}")
        self.items[name] = self.items.get(name, 0) + count

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.items, indent=2, sort_keys=True))
        tmp.replace(self.path)
`,

  math: `Let $f(x) = x^3 - 6x^2 + 11x - 6$. Since $f(1) = 1 - 6 + 11 - 6 = 0$, the polynomial factors as $f(x) = (x - 1)(x^2 - 5x + 6) = (x - 1)(x - 2)(x - 3)$, so its roots are $x \\in \\{1, 2, 3\\}$. The derivative is $f'(x) = 3x^2 - 12x + 11$, which vanishes at $x = 2 \\pm \\frac{1}{\\sqrt{3}}$. By the fundamental theorem of calculus,
$$\\int_1^3 f(x)\\,dx = \\left[\\frac{x^4}{4} - 2x^3 + \\frac{11x^2}{2} - 6x\\right]_1^3 = 0,$$
which also follows from the symmetry $f(4 - x) = -f(x)$ about the point $(2, 0)$. For large $n$, $\\sum_{k=1}^{n} k^2 = \\frac{n(n+1)(2n+1)}{6} \\approx \\frac{n^3}{3}$.`,

  science: `Photosynthesis converts light energy into chemical energy stored in glucose. In the light-dependent reactions, which take place in the thylakoid membranes of the chloroplast, photons excite electrons in chlorophyll a; the electrons pass along an electron transport chain that pumps protons (H+) into the thylakoid lumen, and ATP synthase uses the resulting gradient to make ATP. Water is split to replace the lost electrons, releasing O2 as a by-product. In the Calvin cycle, the enzyme RuBisCO fixes CO2 onto ribulose-1,5-bisphosphate, and the products are reduced using ATP and NADPH. Overall: 6 CO2 + 6 H2O + light → C6H12O6 + 6 O2. Roughly 1-2% of incoming sunlight is typically stored this way by crop plants.`,
};
